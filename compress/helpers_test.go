package compress

import (
	"encoding/binary"
	"hash/crc32"
)

func fixCRC(b []byte) {
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(b[:len(b)-4], castagnoli))
}

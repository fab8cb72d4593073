package train

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"

	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	"github.com/qatgo/qatgo/internal/atomicfile"
	"github.com/qatgo/qatgo/internal/headread"
)

// CheckpointName is the file Fit writes into Config.Dir after every epoch.
const CheckpointName = "checkpoint.qat"

const (
	checkpointMagic   = "QATGOCKP"
	checkpointVersion = 2 // 2 added the generator section; 1 is still read
)

// Checkpoint is the state of a run after a finished epoch.
type Checkpoint struct {
	Epoch     int          // epochs finished
	History   []EpochStats // one entry per finished epoch
	Model     []byte       // Model.MarshalState
	Optimizer []byte       // Optimizer.MarshalState
	RNG       []byte       // RNGState.MarshalRNG of the model (nil: none)
}

// RNGState is implemented by models whose training draws random numbers
// (dropout): Fit saves the generators' state in every checkpoint and
// restores it on resume, so that a resumed run equals an uninterrupted one.
// nn.Net implements it.
type RNGState interface {
	MarshalRNG() ([]byte, error)
	UnmarshalRNG([]byte) error
}

// CheckpointError reports an unreadable checkpoint file.
type CheckpointError struct {
	File   string
	Reason string
}

func (e *CheckpointError) Error() string {
	return fmt.Sprintf("train: checkpoint %s: %s", e.File, e.Reason)
}

type checkpointMeta struct {
	Epoch   int          `json:"epoch"`
	History []EpochStats `json:"history"`
}

// Encode lays the checkpoint out as: magic, version (u32), CRC-32 (IEEE) of
// the rest (u32), then four length-prefixed (u64) sections: JSON metadata,
// model state, optimizer state, generator state (version 1 files have the
// first three).
func (c *Checkpoint) Encode() ([]byte, error) {
	meta, err := json.Marshal(checkpointMeta{Epoch: c.Epoch, History: c.History})
	if err != nil {
		return nil, err
	}
	var body []byte
	for _, sec := range [][]byte{meta, c.Model, c.Optimizer, c.RNG} {
		body = binary.LittleEndian.AppendUint64(body, uint64(len(sec)))
		body = append(body, sec...)
	}
	out := append([]byte(checkpointMagic), 0, 0, 0, 0, 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(out[8:], checkpointVersion)
	binary.LittleEndian.PutUint32(out[12:], crc32.ChecksumIEEE(body))
	return append(out, body...), nil
}

// DecodeCheckpoint parses Encode's output; file names the source in errors.
func DecodeCheckpoint(b []byte, file string) (*Checkpoint, error) {
	bad := func(format string, a ...any) (*Checkpoint, error) {
		return nil, &CheckpointError{File: file, Reason: fmt.Sprintf(format, a...)}
	}
	if len(b) < 16 || !bytes.Equal(b[:8], []byte(checkpointMagic)) {
		return bad("not a qatgo checkpoint (bad magic)")
	}
	v := binary.LittleEndian.Uint32(b[8:])
	if v != 1 && v != checkpointVersion {
		return bad("format version %d, this qatgo reads 1 to %d", v, checkpointVersion)
	}
	body := b[16:]
	if crc := crc32.ChecksumIEEE(body); crc != binary.LittleEndian.Uint32(b[12:]) {
		return bad("checksum mismatch (file corrupt or truncated)")
	}
	secs := make([][]byte, 3)
	if v >= 2 {
		secs = make([][]byte, 4)
	}
	for i := range secs {
		if len(body) < 8 {
			return bad("truncated section %d", i)
		}
		n := binary.LittleEndian.Uint64(body)
		body = body[8:]
		if n > uint64(len(body)) {
			return bad("section %d claims %d bytes, %d left", i, n, len(body))
		}
		secs[i], body = body[:n], body[n:]
	}
	if len(body) != 0 {
		return bad("%d trailing bytes", len(body))
	}
	var meta checkpointMeta
	if err := json.Unmarshal(secs[0], &meta); err != nil {
		return bad("metadata: %v", err)
	}
	if meta.Epoch < 0 || meta.Epoch != len(meta.History) {
		return bad("metadata: epoch %d with %d history entries", meta.Epoch, len(meta.History))
	}
	c := &Checkpoint{Epoch: meta.Epoch, History: meta.History, Model: secs[1], Optimizer: secs[2]}
	if len(secs) > 3 && len(secs[3]) > 0 {
		c.RNG = secs[3]
	}
	return c, nil
}

// MaxCheckpoint bounds the size of a checkpoint file ReadCheckpoint accepts.
const MaxCheckpoint = 1 << 31

// ReadCheckpoint reads and validates a checkpoint file. A missing file gives
// an error satisfying errors.Is(err, os.ErrNotExist).
func ReadCheckpoint(path string) (*Checkpoint, error) {
	b, err := headread.ReadFile(path, len(checkpointMagic), MaxCheckpoint, func(head []byte) (int64, error) {
		if string(head) != checkpointMagic {
			return 0, &CheckpointError{File: path, Reason: "not a qatgo checkpoint (bad magic)"}
		}
		return -1, nil
	})
	if err != nil {
		if errors.Is(err, headread.ErrSize) {
			return nil, &CheckpointError{File: path, Reason: err.Error()}
		}
		return nil, err
	}
	return DecodeCheckpoint(b, path)
}

// WriteCheckpoint writes c to path atomically: a crash leaves the previous
// checkpoint intact.
func WriteCheckpoint(path string, c *Checkpoint) error {
	b, err := c.Encode()
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b, 0o644)
}

func saveCheckpoint(dir string, m Model, o Optimizer, epoch int, hist []EpochStats) error {
	ms, err := m.MarshalState()
	if err != nil {
		return err
	}
	os_, err := o.MarshalState()
	if err != nil {
		return err
	}
	var rng []byte
	if r, ok := m.(RNGState); ok {
		if rng, err = r.MarshalRNG(); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return WriteCheckpoint(filepath.Join(dir, CheckpointName), &Checkpoint{Epoch: epoch, History: hist, Model: ms, Optimizer: os_, RNG: rng})
}

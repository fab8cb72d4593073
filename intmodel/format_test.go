package intmodel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	m := tinyModel(t, 3)
	path := filepath.Join(t.TempDir(), "tiny.qint")
	if err := m.Write(path); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("round trip changed the model:\n got %+v\nwant %+v", got, m)
	}
	// No temporary files left behind.
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("directory holds %d entries after Write, want 1", len(ents))
	}
	b, _ := os.ReadFile(path)
	if string(b[:8]) != "QATGOINT" || binary.LittleEndian.Uint32(b[8:]) != Version {
		t.Errorf("header % x", b[:12])
	}
	// Blob = conv 18 8-bit weights (18 bytes) + fc 24 4-bit weights (12 bytes).
	if blen := binary.LittleEndian.Uint64(b[16:]); blen != 30 {
		t.Errorf("blob length %d, want 30", blen)
	}
}

// reseal recomputes the checksum of an encoding, so that tests (and the
// fuzzer) reach the validation behind it.
func reseal(b []byte) []byte {
	b = bytes.Clone(b)
	if len(b) >= 4 {
		binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(b[:len(b)-4], castagnoli))
	}
	return b
}

func TestDecodeErrors(t *testing.T) {
	good, err := tinyModel(t, 4).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	mlen := int(binary.LittleEndian.Uint32(good[12:]))
	man := string(good[24 : 24+mlen])
	edit := func(old, new string) []byte {
		if !strings.Contains(man, old) {
			t.Fatalf("manifest lacks %q", old)
		}
		m2 := strings.Replace(man, old, new, 1)
		b := append([]byte{}, good[:24]...)
		binary.LittleEndian.PutUint32(b[12:], uint32(len(m2)))
		b = append(b, m2...)
		b = append(b, good[24+mlen:]...)
		return reseal(b)
	}
	flip := bytes.Clone(good)
	flip[30] ^= 4
	for _, test := range []struct {
		name string
		b    []byte
		want error
		msg  string
	}{
		{"empty", nil, ErrTruncated, ""},
		{"magic", append([]byte("QATGOINX"), good[8:]...), ErrMagic, ""},
		{"header cut", good[:20], ErrTruncated, "header"},
		{"body cut", good[:len(good)-7], ErrTruncated, "announces"},
		{"trailing", append(bytes.Clone(good), 0), ErrFormat, "trailing"},
		{"version", reseal(append(append([]byte("QATGOINT"), 3, 0, 0, 0), good[12:]...)), ErrVersion, "3 (this reader knows versions 1 to 2)"},
		{"version 0", reseal(append(append([]byte("QATGOINT"), 0, 0, 0, 0), good[12:]...)), ErrVersion, "0 (this reader knows"},
		{"bit flip", flip, ErrChecksum, ""},
		{"huge manifest", reseal(append(append(bytes.Clone(good[:12]), 0xff, 0xff, 0xff, 0x7f), good[16:]...)), ErrFormat, "manifest length"},
		{"bad json", edit(`{"input"`, `["input"`), ErrFormat, "manifest"},
		{"unknown field", edit(`"kind":"flatten"`, `"kind":"flatten","x":1`), ErrFormat, "unknown field"},
		{"unknown kind", edit(`"kind":"flatten"`, `"kind":"softmax"`), ErrFormat, "softmax"},
		{"bits", edit(`"weight_bits":4`, `"weight_bits":12`), ErrInvalid, "weight bits 12"},
		{"blob offset", edit(`"offset":18`, `"offset":17`), ErrFormat, "blob"},
		{"clamp", edit(`"qmax":127`, `"qmax":999`), ErrInvalid, "clamp"},
		{"shift", edit(`"shift":[`, `"shift":[77,`), ErrInvalid, "multipliers"},
		{"shape", edit(`"input_shape":[1,4,4]`, `"input_shape":[2,4,4]`), ErrInvalid, "conv2d takes 1 channels"},
		{"geometry", edit(`"stride_h":1`, `"stride_h":0`), ErrInvalid, "stride height 0"},
	} {
		_, err := Decode(bytes.NewReader(test.b))
		if !errors.Is(err, test.want) || !strings.Contains(err.Error(), test.msg) {
			t.Errorf("%s: err = %v, want %v mentioning %q", test.name, err, test.want, test.msg)
		}
	}
}

func TestReadNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.qint")
	if err := os.WriteFile(path, []byte("QATGOINT\x01"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Read(path)
	var fe *FileError
	if !errors.As(err, &fe) || fe.File != path || !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), path) {
		t.Errorf("err = %v, want a FileError naming %s and wrapping ErrTruncated", err, path)
	}
}

func FuzzDecode(f *testing.F) {
	for _, m := range []*Model{tinyModel(f, 5), graphModel(f, 5)} {
		good, err := m.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(good)
		f.Add(setVersion(good, 1))
		for _, n := range []int{0, 8, 12, 24, 60, len(good) / 2, len(good) - 4, len(good) - 1} {
			f.Add(good[:n])
		}
		for _, i := range []int{9, 13, 17, 30, 100, 400, 900, len(good) / 2, len(good) - 10, len(good) - 2} {
			b := bytes.Clone(good)
			b[i] ^= 0x10
			f.Add(b)
			f.Add(reseal(b))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// Raw bytes mostly stop at the checksum; resealed ones reach the
		// manifest parser and the model validation.
		for _, in := range [][]byte{b, reseal(b)} {
			m, err := Decode(bytes.NewReader(in))
			if err != nil {
				if m != nil {
					t.Fatal("model and error both returned")
				}
				continue
			}
			if err := m.Validate(); err != nil {
				t.Fatalf("decoded model does not validate: %v", err)
			}
			again, err := m.Marshal()
			if err != nil {
				t.Fatalf("decoded model does not encode: %v", err)
			}
			if _, err := Unmarshal(again); err != nil {
				t.Fatalf("re-encoded model does not decode: %v", err)
			}
			if _, err := Inspect(m); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// The file carries each quantized layer's folded bias q_b − Z_X·Σq_W; a file
// whose folded bias disagrees with its own weights and bias is rejected, even
// with a valid checksum.
func TestFoldedBiasStoredAndChecked(t *testing.T) {
	m := tinyModel(t, 3)
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte(`"folded_bias":[`))
	if i < 0 {
		t.Fatal("no folded_bias in the manifest")
	}
	if _, err := Unmarshal(b); err != nil {
		t.Fatalf("valid file rejected: %v", err)
	}
	// Change the first digit of the first folded bias (keeping the JSON valid).
	j := i + len(`"folded_bias":[`)
	if b[j] == '-' {
		j++
	}
	bad := append([]byte(nil), b...)
	if bad[j] == '9' {
		bad[j] = '8'
	} else {
		bad[j]++
	}
	_, err = Unmarshal(reseal(bad))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "folded bias") {
		t.Fatalf("tampered folded bias: %v", err)
	}
}

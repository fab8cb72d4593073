package datasets

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// idxBytes builds an IDX file by hand: magic, big-endian dimension sizes,
// then the payload.
func idxBytes(magic uint32, dims []uint32, payload []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, magic)
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(payload)
	return b.Bytes()
}

func gzipBytes(t *testing.T, p []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(p); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t *testing.T, dir, name string, p []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, p, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Two 2×3 images and their labels, read back exactly from raw and gzipped
// files.
func TestReadIDXRoundTrip(t *testing.T) {
	pix := []byte{0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255}
	images := idxBytes(MagicImages, []uint32{2, 2, 3}, pix)
	labels := idxBytes(MagicLabels, []uint32{2}, []byte{7, 0})
	for _, gz := range []bool{false, true} {
		dir := t.TempDir()
		im, lb := images, labels
		if gz {
			im, lb = gzipBytes(t, im), gzipBytes(t, lb)
		}
		ip := writeFile(t, dir, "img", im)
		lp := writeFile(t, dir, "lbl", lb)

		x, err := ReadIDXFile(ip)
		if err != nil {
			t.Fatalf("gzip=%v: %v", gz, err)
		}
		if !reflect.DeepEqual(x.Dims, []int{2, 2, 3}) || !bytes.Equal(x.Data, pix) {
			t.Errorf("gzip=%v: got dims %v data %v", gz, x.Dims, x.Data)
		}
		n, h, w, got, err := ReadImagesFile(ip)
		if err != nil || n != 2 || h != 2 || w != 3 || !bytes.Equal(got, pix) {
			t.Errorf("gzip=%v: ReadImagesFile = %d %d %d %v %v", gz, n, h, w, got, err)
		}
		l, err := ReadLabelsFile(lp, 10)
		if err != nil || !bytes.Equal(l, []byte{7, 0}) {
			t.Errorf("gzip=%v: ReadLabelsFile = %v %v", gz, l, err)
		}

		d, err := LoadIDXPair("tiny", ip, lp, 10, NoNorm())
		if err != nil {
			t.Fatal(err)
		}
		// x/255 for the second image's first and last pixel: 250/255, 1.
		if d.Len() != 2 || d.C != 1 || d.H != 2 || d.W != 3 || d.Image(1)[0] != float32(250.0/255) || d.Image(1)[5] != 1 {
			t.Errorf("gzip=%v: dataset %+v", gz, d)
		}
		if !reflect.DeepEqual(d.Labels, []uint8{7, 0}) {
			t.Errorf("gzip=%v: labels %v", gz, d.Labels)
		}
	}
}

func TestReadIDXAnyDims(t *testing.T) {
	p := idxBytes(0x00000802, []uint32{2, 2}, []byte{1, 2, 3, 4})
	x, err := ReadIDX(bytes.NewReader(p), "mem")
	if err != nil || !reflect.DeepEqual(x.Dims, []int{2, 2}) || !bytes.Equal(x.Data, []byte{1, 2, 3, 4}) {
		t.Errorf("ReadIDX = %+v, %v", x, err)
	}
}

// Every malformed file yields a *FormatError naming the file and saying what
// was expected and what was found.
func TestIDXErrors(t *testing.T) {
	twelve := make([]byte, 12)
	for _, test := range []struct {
		name   string
		file   []byte
		labels bool   // read as a labels file (else images)
		want   string // part of the reason
	}{
		{"corrupt magic", idxBytes(0x12340803, []uint32{2, 2, 3}, twelve), false, "magic number 0x12340803: the first two bytes must be zero"},
		{"wrong type byte", idxBytes(0x00000d03, []uint32{2, 2, 3}, twelve), false, "element type 0x0d"},
		{"labels read as images", idxBytes(MagicLabels, []uint32{12}, twelve), false, "magic number 0x00000801, want 0x00000803"},
		{"images read as labels", idxBytes(MagicImages, []uint32{2, 2, 3}, twelve), true, "magic number 0x00000803, want 0x00000801"},
		{"truncated payload", idxBytes(MagicImages, []uint32{2, 2, 3}, twelve[:10]), false, "payload truncated: header declares 2×2×3 = 12 bytes, found 10"},
		{"extra bytes", idxBytes(MagicImages, []uint32{2, 2, 3}, make([]byte, 15)), false, "3 extra bytes after the payload: header declares 2×2×3 = 12 bytes, found 15"},
		{"truncated header", idxBytes(MagicImages, []uint32{2}, nil), false, "want 3 dimension sizes (12 bytes), found 4 bytes"},
		{"short magic", []byte{0, 0, 8}, false, "magic number: want 4 bytes, found 3"},
		{"empty file", nil, false, "too short for an IDX header"},
		{"zero dimension", idxBytes(MagicImages, []uint32{2, 0, 3}, nil), false, "dimension 1 is zero"},
		{"label out of range", idxBytes(MagicLabels, []uint32{3}, []byte{9, 10, 0}), true, "label 10 at index 1 is out of range: want < 10 classes"},
		{"huge header", idxBytes(MagicImages, []uint32{1 << 30, 1 << 30, 1}, nil), false, "declare more than"},
	} {
		for _, gz := range []bool{false, true} {
			if gz && len(test.file) < 2 {
				continue
			}
			p := test.file
			if gz {
				p = gzipBytes(t, p)
			}
			path := writeFile(t, t.TempDir(), "data-idx", p)
			var err error
			if test.labels {
				_, err = ReadLabelsFile(path, 10)
			} else {
				_, _, _, _, err = ReadImagesFile(path)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Errorf("%s (gzip=%v): error %v, want a *FormatError", test.name, gz, err)
				continue
			}
			if fe.File != path || !strings.Contains(fe.Reason, test.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("%s (gzip=%v): error %q, want file %s and reason containing %q", test.name, gz, err, path, test.want)
			}
		}
	}
}

func TestCorruptGzip(t *testing.T) {
	good := gzipBytes(t, idxBytes(MagicLabels, []uint32{4}, []byte{1, 2, 3, 4}))
	for _, test := range []struct {
		name string
		file []byte
	}{
		{"cut stream", good[:len(good)-6]},
		{"bad checksum", append(append([]byte{}, good[:len(good)-8]...), 0, 0, 0, 0, 4, 0, 0, 0)},
		{"bad header", []byte{0x1f, 0x8b, 0, 0}},
	} {
		path := writeFile(t, t.TempDir(), "labels.gz", test.file)
		_, err := ReadLabelsFile(path, 10)
		var fe *FormatError
		if !errors.As(err, &fe) || fe.File != path {
			t.Errorf("%s: error %v, want a *FormatError naming %s", test.name, err, path)
		}
	}
}

func TestCountMismatch(t *testing.T) {
	dir := t.TempDir()
	ip := writeFile(t, dir, "img", idxBytes(MagicImages, []uint32{3, 1, 1}, []byte{1, 2, 3}))
	lp := writeFile(t, dir, "lbl", idxBytes(MagicLabels, []uint32{2}, []byte{1, 2}))
	_, err := LoadIDXPair("x", ip, lp, 10, NoNorm())
	var fe *FormatError
	if !errors.As(err, &fe) || fe.File != lp || !strings.Contains(fe.Reason, "holds 2 labels, but images file "+ip+" holds 3 images") {
		t.Errorf("error %v", err)
	}
	if _, err := LoadIDXPair("x", filepath.Join(dir, "missing"), lp, 10, NoNorm()); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing file: error %v", err)
	}
}

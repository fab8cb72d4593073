package nn

// Internal tests need prepared models, which packages zoo and qconfig make;
// they import nn, so the external test package hands them in (hooks_test.go).
var (
	testModel   func(name, spec string, seed int64) (Module, error)
	testPrepare func(m Module, spec string) (Module, error)
)

// SetTestHooks is called by the external test package's init.
func SetTestHooks(model func(name, spec string, seed int64) (Module, error), prepare func(m Module, spec string) (Module, error)) {
	testModel, testPrepare = model, prepare
}

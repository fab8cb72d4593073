// Package atomicfile writes files so that a reader (or a crash) sees either the
// complete old content or the complete new content, never a torn mix.
//
// The data goes to a temporary file in the target's directory (so that the
// final rename stays on one file system and is atomic), which is flushed to
// stable storage with fsync, renamed over the target, and the directory is
// then fsynced so that the rename itself survives a power loss. On any error
// the target is left untouched and the temporary file is removed.
//
// qatgo writes models, checkpoints and results through this package.
package atomicfile

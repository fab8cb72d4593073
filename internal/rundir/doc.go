// Package rundir makes a run directory a unit with one writer: Lock takes an
// exclusive advisory lock (flock) on DIR/.lock, records the holder's pid in
// it, and removes the temporary files that killed atomic writes left behind.
// The kernel drops the lock when its holder exits, even by kill -9, so a
// crashed run never stays locked.
package rundir

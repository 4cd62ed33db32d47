package live

// ReadTrusted reads a state file under StateDir or LibDir after checking
// that it and its directories are not writable by others (see trust.go).
func ReadTrusted(path string) ([]byte, error) { return readTrusted(path) }

// MkStateDir creates a state directory (0700) after the same checks.
func MkStateDir(dir string) error { return mkStateDir(dir) }

// ReadPendingFile reads a pending rollback file (nil when it is gone).
func ReadPendingFile(path string) (*Pending, error) { return loadPendingFile(path) }

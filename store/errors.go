package store

import "errors"

// Errors Open returns for a database it cannot use.
var (
	// ErrLocked means another process holds the database file.
	ErrLocked = errors.New("database file is locked by another process")
	// ErrCorrupt means the file is not a valid SQLite database or failed its
	// integrity check.
	ErrCorrupt = errors.New("database file is corrupt or not a dialflow database")
	// ErrTooNew means the file was written by a newer dialflow.
	ErrTooNew = errors.New("database schema is newer than this program")
)

package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// FileName is the database file Open creates under the data directory.
const FileName = "dialflow.db"

// Options tune Open. The zero value is the documented default of each field.
type Options struct {
	// BusyTimeout is how long a statement waits for a lock (default 5s).
	BusyTimeout time.Duration
	// Logger receives the store's logs (default: discard).
	Logger *slog.Logger
	// Shared skips the exclusive lock file, letting several handles (tools,
	// tests) open the database at once. An engine must not set it.
	Shared bool
}

// DB is the SQLite store. It is safe for concurrent use.
//
// It holds two handles on the same file. Every write goes through w, which
// has exactly one connection, so concurrent writers queue in Go (in
// database/sql's connection wait, which honours the context) instead of
// sleeping in SQLite's busy handler while they contend for the write lock.
// Reads use the pooled, query-only db; in WAL mode they never wait for the
// writer.
type DB struct {
	db     *sql.DB // pooled read handle (query_only)
	w      *sql.DB // the single write connection
	path   string
	log    *slog.Logger
	unlock func()
}

// Open opens (creating if needed) the database file at path, checks it,
// switches it to WAL mode and applies pending migrations. A locked file
// returns ErrLocked and a damaged one ErrCorrupt, both naming the path.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("store open %s: %w", path, err)
	}
	unlock := func() {}
	if !opts.Shared {
		var err error
		if unlock, err = lockFile(path); err != nil {
			return nil, fmt.Errorf("store open %s: %w", path, err)
		}
	}
	dsn := func(write bool) string {
		q := url.Values{}
		q.Add("_pragma", "busy_timeout("+strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10)+")")
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "synchronous(NORMAL)")
		if write {
			q.Set("_txlock", "immediate")
		} else {
			q.Add("_pragma", "query_only(1)")
		}
		return "file:" + path + "?" + q.Encode()
	}
	w, err := sql.Open("sqlite", dsn(true))
	if err != nil {
		unlock()
		return nil, fmt.Errorf("store open %s: %w", path, err)
	}
	// One connection: writers queue for it instead of for SQLite's lock.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	sdb, err := sql.Open("sqlite", dsn(false))
	if err != nil {
		w.Close()
		unlock()
		return nil, fmt.Errorf("store open %s: %w", path, err)
	}
	sdb.SetMaxOpenConns(8)
	db := &DB{db: sdb, w: w, path: path, log: opts.Logger, unlock: unlock}
	if err := db.init(ctx); err != nil {
		sdb.Close()
		w.Close()
		unlock()
		return nil, fmt.Errorf("store open %s: %w", path, classify(err))
	}
	return db, nil
}

// classify maps SQLite result codes to the package's sentinels.
func classify(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("%w: %w", ErrLocked, err)
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
	}
	return err
}

func (db *DB) init(ctx context.Context) error {
	var mode string
	if err := db.w.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode); err != nil {
		return fmt.Errorf("set WAL mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("set WAL mode: journal mode is %q", mode)
	}
	var check string
	if err := db.w.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&check); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if check != "ok" {
		return fmt.Errorf("integrity check: %s: %w", check, ErrCorrupt)
	}
	return db.migrate(ctx)
}

// migrate applies the embedded migrations newer than schema_version, each in
// its own transaction.
func (db *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
			return fmt.Errorf("schema_version: %w", err)
		}
		var cur int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&cur); err != nil {
			return fmt.Errorf("schema_version: %w", err)
		}
		if cur > len(names) {
			return fmt.Errorf("version %d, known %d: %w", cur, len(names), ErrTooNew)
		}
		for i, name := range names {
			v := i + 1
			if v <= cur {
				continue
			}
			body, err := migrations.ReadFile(name)
			if err != nil {
				return fmt.Errorf("read %s: %w", name, err)
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("apply %s: %w", name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (?)`, v); err != nil {
				return fmt.Errorf("record %s: %w", name, err)
			}
			db.log.Info("applied migration", "name", name)
		}
		return nil
	})
}

// Version returns the applied schema version.
func (db *DB) Version(ctx context.Context) (int, error) {
	var v int
	if err := db.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("store ping: %w", err)
	}
	return nil
}

// Close closes the database.
func (db *DB) Close() error {
	defer db.unlock()
	rerr, werr := db.db.Close(), db.w.Close()
	if err := errors.Join(rerr, werr); err != nil {
		return fmt.Errorf("store close: %w", err)
	}
	return nil
}

// inTx runs fn in an immediate transaction on the write connection,
// committing when it returns nil. fn must use only tx: the write connection
// is the only one, so any other write from fn would wait for itself.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// nanos stores a time as Unix nanoseconds (0 for the zero time).
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is the inverse of nanos; nil for 0 or NULL.
func fromNanos(n sql.NullInt64) *time.Time {
	if !n.Valid || n.Int64 == 0 {
		return nil
	}
	t := time.Unix(0, n.Int64).UTC()
	return &t
}

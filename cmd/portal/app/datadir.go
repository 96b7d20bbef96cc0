package app

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// dataFiles are the files of the data directory that only the portal's
// user may read: the database (password hashes, sealed keys, the audit
// log) with its WAL and shared-memory files, and the two key files.
var dataFiles = []string{"portal.db", "portal.db-wal", "portal.db-shm", "secret.key", "session.keys"}

// prepareDataDir creates the data directory and its database file readable
// by their owner only. A directory or file that others may read is made
// private, and the log says so: it holds password hashes and keys.
func prepareDataDir(dir string, logger *slog.Logger) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("data directory: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return "", fmt.Errorf("create data directory: %w", err)
	}
	if err := private(abs, 0o700, logger); err != nil {
		return "", err
	}
	for _, name := range dataFiles {
		if err := private(filepath.Join(abs, name), 0o600, logger); err != nil {
			return "", err
		}
	}
	// SQLite creates its -wal and -shm files with the database file's mode,
	// so the database file is created first, private.
	f, err := os.OpenFile(databasePath(abs), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return "", fmt.Errorf("create database file: %w", err)
		}
	case !errors.Is(err, fs.ErrExist):
		return "", fmt.Errorf("create database file: %w", err)
	}
	return abs, nil
}

// private takes group and world permissions off path when it exists.
func private(path string, mode fs.FileMode, logger *slog.Logger) error {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	if st.Mode().Perm()&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(path, mode); err != nil {
		return fmt.Errorf("%s may be read by others (mode %v) and could not be made private: %w", path, st.Mode().Perm(), err)
	}
	logger.Warn("made a data file private: it could be read by other users of this machine",
		"path", path, "was", st.Mode().Perm().String(), "now", mode.String())
	return nil
}

func databasePath(dataDir string) string { return filepath.Join(dataDir, "portal.db") }

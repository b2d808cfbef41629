// SPDX-License-Identifier: Apache-2.0

package datastore

import (
	"database/sql"
	"fmt"
	"os"

	// The SQLite driver kine uses, registered as "sqlite3".
	_ "github.com/mattn/go-sqlite3"
)

// createSQLite creates an empty WAL-mode database with the given page size
// (which SQLite fixes when it writes the first page). It is built under a
// temporary name and renamed into place, so a kill leaves either no database
// or a whole one.
func createSQLite(path string, pageSize int) error {
	tmp := path + ".new"
	removeSQLite(tmp) // what a kill during an earlier creation left
	db, err := sql.Open("sqlite3", tmp)
	if err != nil {
		return fmt.Errorf("datastore %s: %w", path, err)
	}
	_, err = db.Exec(fmt.Sprintf("PRAGMA page_size=%d; PRAGMA journal_mode=WAL;", pageSize))
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		removeSQLite(tmp)
		return fmt.Errorf("datastore %s: create: %w", path, err)
	}
	return nil
}

// removeSQLite removes a database file with its WAL and shared-memory files:
// SQLite would replay a stale WAL into a new database of the same name.
func removeSQLite(path string) {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(path + suffix)
	}
}

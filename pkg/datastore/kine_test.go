// SPDX-License-Identifier: Apache-2.0

package datastore

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startKine(t *testing.T, cfg Config) *Kine {
	t.Helper()
	k := New(cfg, quiet())
	require.NoError(t, k.Start(t.Context()))
	t.Cleanup(func() { _ = k.Stop(context.Background()) })
	require.Eventually(t, func() bool { return k.Ready(t.Context()) == nil }, 30*time.Second, 50*time.Millisecond)
	return k
}

// TestWatchSeesCreate guards the root cause of kube-apiserver never becoming
// ready on kine: without kine's CLI defaults (PollInterval) watches never fire.
func TestWatchSeesCreate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k := startKine(t, Config{
		Endpoint:       "sqlite://" + filepath.Join(dir, "db", "state.db") + "?_journal_mode=WAL&_busy_timeout=30000",
		Socket:         filepath.Join(dir, "kine.sock"),
		ConnectTimeout: 10 * time.Second,
	})
	cli, err := clientv3.New(clientv3.Config{Endpoints: k.Endpoints(), DialTimeout: 5 * time.Second})
	require.NoError(t, err)
	defer cli.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	// Like an apiserver informer: create a key, then watch from after it.
	resp, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision("/registry/a"), "=", 0)).
		Then(clientv3.OpPut("/registry/a", "1")).Commit()
	require.NoError(t, err)
	require.True(t, resp.Succeeded)
	watch := cli.Watch(ctx, "/registry/", clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))
	_, err = cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision("/registry/b"), "=", 0)).
		Then(clientv3.OpPut("/registry/b", "2")).Commit()
	require.NoError(t, err)
	select {
	case ev := <-watch:
		require.NoError(t, ev.Err())
		require.NotEmpty(t, ev.Events)
		assert.Equal(t, "/registry/b", string(ev.Events[0].Kv.Key))
	case <-ctx.Done():
		t.Fatal("the watch never saw the create")
	}
}

func TestRefusesFileThatIsNotSQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "state.db")
	require.NoError(t, os.WriteFile(db, []byte("this is not a database, just some text"), 0o600))
	k := New(Config{Endpoint: "sqlite://" + db, Socket: filepath.Join(dir, "kine.sock"), ConnectTimeout: time.Second}, quiet())
	err := k.Start(t.Context())
	require.ErrorContains(t, err, "not a SQLite database")
	b, _ := os.ReadFile(db)
	assert.Equal(t, "this is not a database, just some text", string(b), "the file is left alone")
}

func TestUnreachablePostgresFailsWithCause(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k := New(Config{
		Endpoint:       "postgres://wren:hunter2@127.0.0.1:1/wren?sslmode=disable",
		Socket:         filepath.Join(dir, "kine.sock"),
		ConnectTimeout: 3 * time.Second,
	}, quiet())
	require.NoError(t, k.Start(t.Context()))
	defer k.Stop(context.Background())
	select {
	case err := <-k.Exited():
		assert.ErrorContains(t, err, "unreachable after 3s")
		assert.ErrorContains(t, err, "connect")
		assert.NotContains(t, err.Error(), "hunter2", "the password is redacted")
	case <-time.After(60 * time.Second):
		t.Fatal("no error reported")
	}
	assert.Error(t, k.Ready(t.Context()))
}

// A database wren creates has the small page size and WAL, kine builds its
// tables in it, and an existing database keeps the page size it was created with.
func TestNewDatabasePageSize(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "db", "state.db")
	start := func(pageSize int) {
		k := New(Config{
			Endpoint: "sqlite://" + db + "?_journal_mode=WAL&_busy_timeout=30000", Socket: filepath.Join(dir, "kine.sock"),
			ConnectTimeout: 10 * time.Second, SQLitePageSize: pageSize,
		}, quiet())
		require.NoError(t, k.Start(t.Context()))
		require.Eventually(t, func() bool { return k.Ready(t.Context()) == nil }, 30*time.Second, 50*time.Millisecond)
		cli, err := clientv3.New(clientv3.Config{Endpoints: k.Endpoints(), DialTimeout: 5 * time.Second})
		require.NoError(t, err)
		_, err = cli.Put(t.Context(), "/registry/k", strings.Repeat("v", 5000)) // spans pages
		require.NoError(t, err)
		got, err := cli.Get(t.Context(), "/registry/k")
		require.NoError(t, err)
		require.Len(t, got.Kvs, 1)
		assert.Len(t, got.Kvs[0].Value, 5000)
		cli.Close()
		require.NoError(t, k.Stop(context.Background()))
	}
	pragma := func(name string) string {
		conn, err := sql.Open("sqlite3", db)
		require.NoError(t, err)
		defer conn.Close()
		var v string
		require.NoError(t, conn.QueryRow("PRAGMA "+name).Scan(&v))
		return v
	}
	// A kill during an earlier creation left the temporary database.
	require.NoError(t, os.MkdirAll(filepath.Dir(db), 0o700))
	for _, leftover := range []string{".new", ".new-wal", ".new-shm"} {
		require.NoError(t, os.WriteFile(db+leftover, []byte("left over"), 0o600))
	}
	start(1024)
	assert.Equal(t, "1024", pragma("page_size"))
	assert.Equal(t, "wal", pragma("journal_mode"))
	for _, leftover := range []string{".new", ".new-wal", ".new-shm"} {
		assert.NoFileExists(t, db+leftover)
	}
	start(4096) // an existing database is not recreated
	assert.Equal(t, "1024", pragma("page_size"))
}

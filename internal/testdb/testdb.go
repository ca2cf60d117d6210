// Package testdb gives each test package its own PostgreSQL database,
// found by the same rules as the program (DATABASE_URL, else
// localhost:5432, else the private cluster under .data/postgres), migrated
// once and dropped when the package's tests end.
//
//	func TestMain(m *testing.M) { testdb.Main(m) }
//	func TestX(t *testing.T) { st := testdb.Store(t) ... }
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/internal/pgcluster"
	"github.com/recoverydesk/recoverydesk/internal/store"
	"github.com/recoverydesk/recoverydesk/migrations"
)

// pkg is the state of this test binary; set once by Main.
var pkg struct {
	url       string
	storeOnce sync.Once
	store     *store.Store
	storeErr  error
}

// Main creates and migrates the package database, runs the tests and drops
// the database. Use it as the body of TestMain.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if fuzzing() {
		// Fuzz targets here are pure; a database per fuzz worker process
		// would only slow them down.
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	url, err := create(ctx, "rdtest_"+packageName()+"_"+randomSuffix())
	if err == nil {
		err = migrate(ctx, url)
	}
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "testdb: %v\n", err)
		return 1
	}
	pkg.url = url
	code := m.Run()
	if pkg.store != nil {
		pkg.store.Close()
	}
	if err := pgcluster.DropDatabase(context.Background(), url); err != nil {
		fmt.Fprintf(os.Stderr, "testdb: %v\n", err)
	}
	return code
}

// fuzzing reports whether this test binary runs as a fuzzer or one of its
// workers (-test.fuzz=… or -test.fuzzworker).
func fuzzing() bool {
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(a, "-test.fuzzworker") || (strings.HasPrefix(a, "-test.fuzz=") && a != "-test.fuzz=") {
			return true
		}
	}
	return false
}

// URL is the migrated package database; Main must be the TestMain.
func URL(t testing.TB) string {
	t.Helper()
	if pkg.url == "" {
		t.Fatal("testdb: call testdb.Main(m) from TestMain")
	}
	return pkg.url
}

// Store is a store on the package database, shared by the package's tests
// and closed by Main.
func Store(t testing.TB) *store.Store {
	t.Helper()
	url := URL(t)
	pkg.storeOnce.Do(func() {
		pkg.store, pkg.storeErr = store.Open(context.Background(), url, nil)
	})
	if pkg.storeErr != nil {
		t.Fatalf("testdb: %v", pkg.storeErr)
	}
	return pkg.store
}

// Fresh creates an empty, unmigrated database on the same server, dropped
// when t ends; for migration tests.
func Fresh(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	url, err := create(ctx, "rdtest_fresh_"+randomSuffix())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := pgcluster.DropDatabase(context.Background(), url); err != nil {
			t.Errorf("testdb: %v", err)
		}
	})
	return url
}

func create(ctx context.Context, name string) (string, error) {
	res, err := pgcluster.Discover(ctx, pgcluster.Options{
		URL:      os.Getenv("DATABASE_URL"),
		Dir:      filepath.Join(moduleRoot(), ".data", "postgres"),
		Database: name,
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return "", err
	}
	// A private cluster is left running for the other test packages and
	// the next run; `go tool task db:stop` stops it.
	return res.URL, nil
}

func migrate(ctx context.Context, url string) error {
	st, err := store.Open(ctx, url, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	_, err = migrations.Apply(ctx, st.Pool, slog.New(slog.DiscardHandler))
	return err
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// packageName names the database after the test binary, so a leftover
// database says where it came from.
func packageName() string {
	name := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
	name = nonWord.ReplaceAllString(strings.ToLower(name), "_")
	if len(name) > 30 {
		name = name[:30]
	}
	return name
}

func randomSuffix() string {
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

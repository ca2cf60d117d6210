// Command migrategen writes a new versioned migration from the ent schema.
//
//	go run ./cmd/migrategen -name add_widgets
//	go run ./cmd/migrategen -rehash   # after writing a migration by hand
//
// It needs a PostgreSQL server where it may create (and then drop) a
// scratch database; see -database-url.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/recoverydesk/recoverydesk/internal/migrategen"
)

func main() {
	name := flag.String("name", "", "migration name, e.g. add_widgets (required)")
	dir := flag.String("dir", "migrations", "migration directory")
	dbURL := flag.String("database-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"PostgreSQL server where a scratch database may be created")
	rehash := flag.Bool("rehash", false, "only rewrite atlas.sum after a migration was written or edited by hand")
	flag.Parse()
	if *rehash {
		if err := migrategen.Rehash(*dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if *name == "" {
		fmt.Fprintln(os.Stderr, "migrategen: -name is required")
		flag.Usage()
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	written, err := migrategen.Diff(ctx, *dbURL, *dir, *name)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if len(written) == 0 {
		fmt.Println("no changes")
		return
	}
	for _, f := range written {
		fmt.Println("wrote", f)
	}
}

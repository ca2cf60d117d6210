// Package migrategen writes versioned SQL migrations from the ent schema.
//
// It replays the existing migration directory on a scratch database, diffs
// the result against the ent schema and writes the difference as a new
// goose-format file (plus the updated atlas.sum). Comparing against a replay
// rather than a live database means the output depends only on the files in
// the directory, so every developer and CI get the same answer.
package migrategen

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	atlasschema "ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqltool"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/recoverydesk/recoverydesk/ent/migrate"
)

// validName keeps migration names safe to use in a file name.
var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_]*$`)

// Diff writes a migration named name into dir holding the statements that
// bring the schema built by dir's migrations up to the ent schema. adminURL
// points at a PostgreSQL server where the caller may create databases; a
// scratch database is created there and dropped again. It returns the paths
// of the files it created or changed (the new .sql file and atlas.sum), or
// none when the migrations already match the ent schema.
func Diff(ctx context.Context, adminURL, dir, name string) (written []string, err error) {
	if !validName.MatchString(name) {
		return nil, fmt.Errorf("migrategen: invalid name %q: use lower-case letters, digits and _", name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("migrategen: create %s: %w", dir, err)
	}
	before, err := snapshot(dir)
	if err != nil {
		return nil, err
	}

	cfg, err := pgx.ParseConfig(adminURL)
	if err != nil {
		return nil, fmt.Errorf("migrategen: parse database url: %w", err)
	}
	scratch, err := createScratch(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		if dropErr := dropScratch(ctx, cfg, scratch); dropErr != nil {
			err = errors.Join(err, dropErr)
		}
	}()

	if err := diffInto(ctx, cfg, scratch, dir, name); err != nil {
		return nil, err
	}

	after, err := snapshot(dir)
	if err != nil {
		return nil, err
	}
	for file, content := range after {
		if old, ok := before[file]; !ok || !bytes.Equal(old, content) {
			written = append(written, filepath.Join(dir, file))
		}
	}
	sort.Strings(written)
	return written, nil
}

// diffInto runs ent's replay-mode diff on the scratch database.
func diffInto(ctx context.Context, admin *pgx.ConnConfig, scratch, dir, name string) error {
	cfg := admin.Copy()
	cfg.Database = scratch
	db := stdlib.OpenDB(*cfg)
	defer db.Close()

	gooseDir, err := sqltool.NewGooseDir(dir)
	if err != nil {
		return fmt.Errorf("migrategen: open migration dir %s: %w", dir, err)
	}
	drv := entsql.OpenDB(dialect.Postgres, db)
	err = migrate.NewSchema(drv).NamedDiff(ctx, name,
		schema.WithDir(gooseDir),
		schema.WithFormatter(sqltool.GooseFormatter),
		schema.WithDialect(dialect.Postgres),
		schema.WithMigrationMode(schema.ModeReplay),
		// Without these, removing a field or index from the schema would
		// silently leave the column or index behind.
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
		schema.WithDiffHook(keepHandWritten),
	)
	if err != nil {
		return fmt.Errorf("migrategen: diff: %w", err)
	}
	return nil
}

// createScratch creates an empty database with a random name.
func createScratch(ctx context.Context, admin *pgx.ConnConfig) (string, error) {
	var buf [8]byte
	if _, err := rand.Read(buf[:]); err != nil {
		return "", fmt.Errorf("migrategen: random name: %w", err)
	}
	name := "migrategen_" + hex.EncodeToString(buf[:])
	conn, err := pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return "", fmt.Errorf("migrategen: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("migrategen: create scratch database: %w", err)
	}
	return name, nil
}

// dropScratch drops the scratch database, even when ctx is already done.
func dropScratch(ctx context.Context, admin *pgx.ConnConfig, name string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return fmt.Errorf("migrategen: connect to drop %s: %w", name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("migrategen: drop scratch database %s: %w", name, err)
	}
	return nil
}

// snapshot reads the regular files directly inside dir.
func snapshot(dir string) (map[string][]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("migrategen: read %s: %w", dir, err)
	}
	files := make(map[string][]byte, len(entries))
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("migrategen: read %s: %w", e.Name(), err)
		}
		files[e.Name()] = b
	}
	return files, nil
}

// HandWrittenIndexPrefix names the indexes hand-written migrations create
// on expressions, which ent cannot declare: the diff must not drop them.
const HandWrittenIndexPrefix = "hand_"

// keepHandWritten removes drops of hand-written indexes from the diff.
func keepHandWritten(next schema.Differ) schema.Differ {
	return schema.DiffFunc(func(current, desired *atlasschema.Schema) ([]atlasschema.Change, error) {
		changes, err := next.Diff(current, desired)
		if err != nil {
			return nil, err
		}
		for _, c := range changes {
			if m, ok := c.(*atlasschema.ModifyTable); ok {
				m.Changes = slices.DeleteFunc(m.Changes, func(c atlasschema.Change) bool {
					d, ok := c.(*atlasschema.DropIndex)
					return ok && strings.HasPrefix(d.I.Name, HandWrittenIndexPrefix)
				})
			}
		}
		return slices.DeleteFunc(changes, func(c atlasschema.Change) bool {
			m, ok := c.(*atlasschema.ModifyTable)
			return ok && len(m.Changes) == 0
		}), nil
	})
}

// Rehash rewrites dir's atlas.sum after a migration was written or edited
// by hand (an index on an expression, a trigger), as `atlas migrate hash`
// would: Diff refuses a directory whose files do not match their sums.
func Rehash(dir string) error {
	gooseDir, err := sqltool.NewGooseDir(dir)
	if err != nil {
		return fmt.Errorf("migrategen: open %s: %w", dir, err)
	}
	sum, err := gooseDir.Checksum()
	if err != nil {
		return fmt.Errorf("migrategen: hash %s: %w", dir, err)
	}
	if err := atlasmigrate.WriteSumFile(gooseDir, sum); err != nil {
		return fmt.Errorf("migrategen: write %s/atlas.sum: %w", dir, err)
	}
	return nil
}

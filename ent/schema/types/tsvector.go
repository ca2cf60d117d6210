package types

import (
	"database/sql/driver"
	"fmt"
)

// TSVector is a PostgreSQL tsvector in its text form. Triggers write it;
// Go code only queries it with @@, so the text form is all it needs.
type TSVector string

// Value implements driver.Valuer.
func (v TSVector) Value() (driver.Value, error) { return string(v), nil }

// Scan implements sql.Scanner.
func (v *TSVector) Scan(src any) error {
	switch s := src.(type) {
	case nil:
		*v = ""
	case string:
		*v = TSVector(s)
	case []byte:
		*v = TSVector(s)
	default:
		return fmt.Errorf("types: scan %T into TSVector", src)
	}
	return nil
}

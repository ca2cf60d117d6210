package registry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/recoverydesk/recoverydesk/account"
	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/internal/store"
)

// DefaultMaxSize is the largest file accepted when Options.MaxSize is 0.
const DefaultMaxSize = 100 << 20

// Options configure a Service.
type Options struct {
	// Store is the database.
	Store *store.Store
	// Dir is where files are stored (DATA_DIR/files).
	Dir string
	// MaxSize is the largest file accepted, in bytes; 0 means
	// DefaultMaxSize.
	MaxSize int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service records uploads: projects, releases and their files.
type Service struct {
	st      *store.Store
	files   *FileStore
	maxSize int64
	now     func() time.Time
}

// NewService returns the upload service.
func NewService(o Options) (*Service, error) {
	var errs []error
	if o.Store == nil {
		errs = append(errs, errors.New("Store is nil"))
	}
	if o.Dir == "" {
		errs = append(errs, errors.New("Dir is empty"))
	}
	if o.MaxSize < 0 {
		errs = append(errs, errors.New("MaxSize is negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("registry: invalid options: %w", err)
	}
	s := &Service{st: o.Store, files: NewFileStore(o.Dir), maxSize: o.MaxSize, now: o.Now}
	if s.maxSize == 0 {
		s.maxSize = DefaultMaxSize
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// MaxSize is the largest file the service accepts, in bytes.
func (s *Service) MaxSize() int64 { return s.maxSize }

// Files is where the service keeps the files' bytes.
func (s *Service) Files() *FileStore { return s.files }

// Authenticate returns the live API token for token, with its user, and
// records its use; see account.AuthenticateAPIToken for the errors.
func (s *Service) Authenticate(ctx context.Context, token string) (*ent.APIToken, error) {
	return account.AuthenticateAPIToken(ctx, s.st.Ent, token, s.now())
}

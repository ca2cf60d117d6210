package web

import (
	"fmt"
	"runtime/debug"

	"github.com/gofiber/fiber/v2"
)

// panicError is a panic turned into an error, with the stack where it
// happened so the error handler can log both in its one log line.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// recoverPanic turns a panic in any later handler into a 500 page. It
// replaces Fiber's recover middleware, which either drops the stack or
// prints it to stderr outside slog.
func (h *handler) recoverPanic(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{value: r, stack: debug.Stack()}
		}
	}()
	return c.Next()
}

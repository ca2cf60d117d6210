package devmail

import (
	"fmt"
	"log/slog"
)

// printfLogger adapts slog to the Printf-style loggers of go-smtp and
// go-imap, which report connection-level errors through them.
type printfLogger struct {
	logger *slog.Logger
}

func (l printfLogger) Printf(format string, args ...any) {
	l.logger.Warn(fmt.Sprintf(format, args...))
}

func (l printfLogger) Println(args ...any) {
	l.logger.Warn(fmt.Sprint(args...))
}

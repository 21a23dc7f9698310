package bootstrap

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Buffering of the JSON log (LOG_FORMAT=json, the default): lines are
// written to stdout in batches, at the latest logFlushInterval after they
// were logged, when logBufferSize bytes are waiting, and when the process
// stops (the hook below; zap's Fatal syncs too). At info level the access
// log writes a line per request, and one write(2) per line cost `make bench`
// a tenth of the list throughput. An entry at error level or above is
// written out at once, with everything before it (flushOnError), so that
// what explains a failure, a failed start included, never waits in the
// buffer. What a crash (a kill -9, the OOM killer, an unrecovered panic)
// can lose is the last second of the other lines. Console lines
// (LOG_FORMAT=console, for people) are written at once.
const (
	logBufferSize    = 256 << 10
	logFlushInterval = time.Second
)

// NewLogger builds the process logger: JSON on stdout by default, console
// lines for people when LOG_FORMAT=console.
func NewLogger(c Config, lc fx.Lifecycle) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(c.LogLevel)
	if err != nil {
		return nil, fmt.Errorf("LOG_LEVEL must be debug, info, warn or error, got %q", c.LogLevel)
	}
	zc := zap.NewProductionConfig()
	if c.LogFormat == "console" {
		zc = zap.NewDevelopmentConfig()
	}
	zc.Level = zap.NewAtomicLevelAt(level)
	zc.OutputPaths = []string{"stdout"}
	zc.ErrorOutputPaths = []string{"stderr"}
	zc.EncoderConfig.TimeKey = "ts"
	zc.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	zc.Sampling = nil
	if c.LogFormat == "console" {
		return zc.Build()
	}
	// Stdout as a plain writer: fsync on a pipe fails (EINVAL) and means
	// nothing; Stop writes out what is buffered, which is what matters.
	stdout := zapcore.AddSync(struct{ io.Writer }{os.Stdout})
	out := &zapcore.BufferedWriteSyncer{WS: stdout, Size: logBufferSize, FlushInterval: logFlushInterval}
	lc.Append(fx.Hook{OnStop: func(context.Context) error { return out.Stop() }})
	return zc.Build(zap.WrapCore(func(zapcore.Core) zapcore.Core {
		return flushOnError{zapcore.NewCore(zapcore.NewJSONEncoder(zc.EncoderConfig), out, zc.Level)}
	}))
}

// flushOnError is a core that syncs its writer (here: writes the buffer out)
// after every entry at error level. zapcore's own core already does so above
// error level (DPanic, Panic, Fatal).
type flushOnError struct{ zapcore.Core }

func (c flushOnError) With(fields []zapcore.Field) zapcore.Core {
	return flushOnError{c.Core.With(fields)}
}

func (c flushOnError) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c flushOnError) Write(e zapcore.Entry, fields []zapcore.Field) error {
	if err := c.Core.Write(e, fields); err != nil {
		return err
	}
	if e.Level == zapcore.ErrorLevel {
		return c.Core.Sync()
	}
	return nil
}

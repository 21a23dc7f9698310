package bootstrap

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// lockedBuffer is a bytes.Buffer safe for the buffered syncer's flusher.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestFlushOnError: info lines wait in the buffer; an error line goes out at
// once, with the lines before it.
func TestFlushOnError(t *testing.T) {
	var sink lockedBuffer
	out := &zapcore.BufferedWriteSyncer{WS: zapcore.AddSync(&sink), Size: 1 << 20, FlushInterval: time.Hour}
	defer func() { _ = out.Stop() }()
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	log := zap.New(flushOnError{zapcore.NewCore(enc, out, zapcore.InfoLevel)}).With(zap.String("component", "test"))

	log.Info("request", zap.Int("status", 200))
	if got := sink.String(); got != "" {
		t.Fatalf("an info line was written at once: %q", got)
	}
	log.Error("start failed", zap.String("why", "database unreachable"))
	got := sink.String()
	if !strings.Contains(got, `"msg":"request"`) || !strings.Contains(got, `"msg":"start failed"`) || !strings.Contains(got, `"component":"test"`) {
		t.Fatalf("after an error line the output is %q, want both lines with their fields", got)
	}
}

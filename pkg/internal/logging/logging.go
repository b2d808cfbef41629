// SPDX-License-Identifier: Apache-2.0

// Package logging builds wren's slog logger and routes the logs of upstream
// libraries (klog for Kubernetes, logrus for kine and others) into it, so the
// whole process writes one format to one place.
package logging

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/sirupsen/logrus"
	"k8s.io/klog/v2"
)

// Options selects the log destination and detail.
type Options struct {
	// Debug lowers wren's own level to debug and upstream verbosity to 2 unless
	// Verbosity is higher.
	Debug bool
	// Verbosity is klog's -v level for the embedded Kubernetes components.
	Verbosity int
	// VModule is klog's -vmodule setting.
	VModule string
}

// New returns a logger writing text lines to w and makes it the destination
// of klog and logrus as well.
func New(w io.Writer, o Options) *slog.Logger {
	level := slog.LevelInfo
	if o.Debug {
		level = slog.LevelDebug
		if o.Verbosity < 2 {
			o.Verbosity = 2
		}
	}
	h := slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})
	log := slog.New(h)
	bridgeKlog(log, o)
	bridgeLogrus(h, o.Debug)
	return log
}

func bridgeKlog(log *slog.Logger, o Options) {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("v", strconv.Itoa(o.Verbosity))
	if o.VModule != "" {
		_ = fs.Set("vmodule", o.VModule)
	}
	klog.SetSlogLogger(log.With("logger", "k8s"))
}

// bridgeLogrus sends logrus entries (kine, remotedialer, flannel) to h.
func bridgeLogrus(h slog.Handler, debug bool) {
	logrus.SetOutput(io.Discard)
	logrus.SetLevel(logrus.InfoLevel)
	if debug {
		logrus.SetLevel(logrus.DebugLevel)
	}
	logrus.StandardLogger().ReplaceHooks(logrus.LevelHooks{})
	logrus.AddHook(&logrusHook{h: h})
}

type logrusHook struct{ h slog.Handler }

func (l *logrusHook) Levels() []logrus.Level { return logrus.AllLevels }

func (l *logrusHook) Fire(e *logrus.Entry) error {
	level := slog.LevelInfo
	switch {
	case e.Level <= logrus.ErrorLevel:
		level = slog.LevelError
	case e.Level == logrus.WarnLevel:
		level = slog.LevelWarn
	case e.Level >= logrus.DebugLevel:
		level = slog.LevelDebug
	}
	ctx := context.Background()
	if !l.h.Enabled(ctx, level) {
		return nil
	}
	r := slog.NewRecord(e.Time, level, strings.TrimSpace(e.Message), 0)
	r.AddAttrs(slog.String("logger", "logrus"))
	for k, v := range e.Data {
		r.AddAttrs(slog.Any(k, v))
	}
	return l.h.Handle(ctx, r)
}

package realkit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/simval/simval/scenarios"
)

// maxLineBytes bounds one protocol line (a request with 10⁵ token times is ~2 MB).
const maxLineBytes = 64 << 20

// RunDriver replays reqs on a real engine through its embedded Python driver and
// returns what the driver recorded.
//
// The driver runs in a temporary directory as the leader of its own process group;
// cancelling ctx (or Timeout, or ReadyTimeout before the ready line) sends SIGTERM to
// the group and SIGKILL after KillGrace; the group is killed after the driver exits
// in any case, so engine helpers (Ray workers) do not outlive it.
//
// On failure RunDriver returns both the *Run, holding every request that finished,
// and a *DriverError saying where it stopped. errors.Is works on the cause
// (context.Canceled, context.DeadlineExceeded, ErrNotReady, ErrIncomplete).
func RunDriver(ctx context.Context, spec DriverSpec, reqs []scenarios.Request, opts RunOptions) (*Run, error) {
	opts = opts.withDefaults()
	if err := CheckRequests(reqs); err != nil {
		return nil, err
	}
	trace, err := EncodeTrace(reqs)
	if err != nil {
		return nil, err
	}
	dir, argv, err := prepare(spec, trace, opts)
	if err != nil {
		return nil, err
	}
	if opts.dir == "" {
		defer os.RemoveAll(dir)
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if opts.Timeout > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeoutCause(ctx, opts.Timeout,
			fmt.Errorf("%w: run timeout %v", context.DeadlineExceeded, opts.Timeout))
		defer stop()
	}

	sess := newSession(reqs, opts.Repetitions, opts.Progress)
	readyCh := make(chan struct{})
	sess.onReady = func() { close(readyCh) }
	lines := &lineWriter{
		onLine: func(b []byte) {
			if err := sess.line(b); err != nil {
				cancel(err)
			}
		},
		onOverflow: func() { cancel(fmt.Errorf("stdout line longer than %d bytes", maxLineBytes)) },
	}
	stderr := newRingBuffer(64 << 10)
	cmd := newDriverCmd(ctx, dir, argv, launchEnv(spec), opts.KillGrace)
	cmd.Stdout = lines
	cmd.Stderr = stderr
	var live *usageHold
	if opts.Stderr != nil {
		live = &usageHold{w: opts.Stderr}
		cmd.Stderr = io.MultiWriter(stderr, live)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("realkit: starting the %s driver: %w", spec.Engine, err)
	}
	afterFunc := opts.afterFunc
	if afterFunc == nil {
		afterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	stopReadyTimer := afterFunc(opts.ReadyTimeout, func() {
		select {
		case <-readyCh:
		default:
			cancel(fmt.Errorf("%w: no ready line within %v", ErrNotReady, opts.ReadyTimeout))
		}
	})
	waitErr := cmd.Wait()
	stopReadyTimer()
	killGroup(cmd)
	usage := ""
	if waitErr != nil && sess.lineNo == 0 {
		usage = usageError(stderr.String())
	}
	if live != nil {
		live.release(usage != "")
	}

	run := sess.finish()
	run.Command = commandString(argv)
	cause := context.Cause(ctx)
	switch {
	case sess.protoErr != nil:
		cause = sess.protoErr
	case cause != nil: // cancelled, timed out or not ready: the cause says which
	case waitErr != nil:
		cause = waitErr
	case len(lines.buf) > 0:
		cause = fmt.Errorf("stdout ended inside a line: %s", truncate(string(lines.buf), 300))
	case sess.fatal != "":
		cause = errors.New("the driver reported a fatal error")
	case !sess.complete():
		cause = ErrIncomplete
	default:
		return run, nil
	}
	return run, &DriverError{
		Engine: spec.Engine, Stage: sess.stage(), Finished: sess.finishedTotal(),
		Total: len(reqs) * opts.Repetitions, LastLineNo: sess.lineNo, LastLine: sess.lastLine,
		DriverMessage: sess.fatal, StderrTail: stderr.String(), Usage: usage, Err: cause,
	}
}

func (s *session) stage() string {
	switch {
	case !s.ready:
		return "while loading or warming up"
	case !s.haveMeta:
		return "before its meta line"
	case s.rep >= s.repetitions:
		return "after its last repetition"
	}
	return fmt.Sprintf("in repetition %d of %d", s.rep+1, s.repetitions)
}

// lineWriter splits the driver's stdout into lines. exec copies stdout into it
// from one goroutine; it keeps accepting bytes after a violation (and discards
// them) so that the driver never blocks on a full pipe while it is being stopped.
type lineWriter struct {
	buf        []byte
	onLine     func([]byte)
	onOverflow func()
	dead       bool
}

func (w *lineWriter) Write(p []byte) (int, error) {
	if w.dead {
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	start := 0
	for {
		i := bytes.IndexByte(w.buf[start:], '\n')
		if i < 0 {
			break
		}
		line := bytes.TrimSuffix(w.buf[start:start+i], []byte("\r"))
		if len(bytes.TrimSpace(line)) > 0 {
			w.onLine(line)
		}
		start += i + 1
	}
	w.buf = append(w.buf[:0], w.buf[start:]...)
	if len(w.buf) > maxLineBytes {
		w.dead, w.buf = true, nil
		w.onOverflow()
	}
	return len(p), nil
}

// CheckRequests rejects workloads no driver can replay: empty, repeated or empty
// ids, arrivals that are negative, not finite or beyond scenarios.MaxArrivalS, token
// counts below 1.
func CheckRequests(reqs []scenarios.Request) error {
	if len(reqs) == 0 {
		return errors.New("realkit: no requests")
	}
	seen := make(map[string]bool, len(reqs))
	for i, r := range reqs {
		switch {
		case r.ID == "":
			return fmt.Errorf("realkit: request %d: empty id", i)
		case seen[r.ID]:
			return fmt.Errorf("realkit: request %d: id %q repeats", i, r.ID)
		case math.IsNaN(r.ArrivalS) || math.IsInf(r.ArrivalS, 0) || r.ArrivalS < 0 || r.ArrivalS > scenarios.MaxArrivalS:
			return fmt.Errorf("realkit: request %q: arrival_s %v must be finite and in [0, %v] s", r.ID, r.ArrivalS,
				float64(scenarios.MaxArrivalS))
		case r.PromptTokens < 1 || r.OutputTokens < 1:
			return fmt.Errorf("realkit: request %q: prompt_tokens %d and output_tokens %d must be >= 1", r.ID,
				r.PromptTokens, r.OutputTokens)
		}
		seen[r.ID] = true
	}
	return nil
}

// EncodeTrace renders requests as the drivers' JSON-lines trace (one
// scenarios.Request per line; floats in Go's shortest round-trip form).
func EncodeTrace(reqs []scenarios.Request) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, r := range reqs {
		if err := enc.Encode(r); err != nil {
			return nil, fmt.Errorf("realkit: request %q: %w", r.ID, err)
		}
	}
	return b.Bytes(), nil
}

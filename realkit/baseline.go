package realkit

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"
)

// Baseline is a recorded real run of a scenario on a target, with its provenance.
// It is written once by a recording run and never edited by hand; re-recording is
// an explicit, reviewed act.
type Baseline struct {
	Target     string    `json:"target"`
	Scenario   string    `json:"scenario"`
	RecordedAt time.Time `json:"recorded_at"`
	// Command is how the run was made (the driver command line, or the client's).
	Command string `json:"command"`
	// Meta is the run's provenance: GPU, driver, engine version, resolved settings,
	// warm-up policy, clock and whether timestamps are the engine's or the client's.
	Meta        Meta         `json:"meta"`
	Repetitions []Repetition `json:"repetitions"`
	Warnings    []string     `json:"warnings,omitempty"`
	// Import says which tool's file an imported run came from (simval import); nil
	// for a run simval recorded itself.
	Import *ImportSource `json:"import,omitempty"`
}

// ImportSource is the provenance of a run measured by another benchmark tool and
// imported (realkit/benchfmt): the tool, its version where the file records one, the
// file's name and SHA-256, and when it was imported. What the import had to
// reconstruct is in the baseline's Warnings.
type ImportSource struct {
	Tool        string    `json:"tool"`
	ToolVersion string    `json:"tool_version,omitempty"`
	File        string    `json:"file"`
	SHA256      string    `json:"sha256"`
	ImportedAt  time.Time `json:"imported_at"`
	// Benchmark is which of the file's benchmarks was imported, for a file that holds
	// several (GuideLLM sweeps); -1 when the file holds one run.
	Benchmark int `json:"benchmark"`
}

// NewBaseline wraps a complete run as a baseline recorded at recordedAt.
func NewBaseline(target, scenario string, run *Run, recordedAt time.Time) *Baseline {
	return &Baseline{
		Target: target, Scenario: scenario, RecordedAt: recordedAt.UTC(), Command: run.Command,
		Meta: run.Meta, Repetitions: run.Repetitions, Warnings: run.Warnings,
	}
}

// baselineDepth is how deep a baseline file is indented: down to the lists of records
// and steps, each record and each step on one line of its own.
const baselineDepth = 4

// WriteBaseline writes b as indented JSON ending in a newline, one line per request
// record and per engine step. Floats are written in Go's shortest round-trip form, so
// reading the file back gives the same values.
func WriteBaseline(w io.Writer, b *Baseline) error {
	if err := b.check(); err != nil {
		return fmt.Errorf("realkit: baseline not written: %w", err)
	}
	data, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("realkit: baseline: %w", err)
	}
	_, err = w.Write(append(indentTo(data, baselineDepth), '\n'))
	return err
}

// ReadBaseline reads a baseline strictly: unknown fields, wrong types, trailing data
// and broken invariants are errors naming name (the file) and the field.
func ReadBaseline(r io.Reader, name string) (*Baseline, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var b Baseline
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("baseline %s: %s", name, describeJSONError(data, err, dec.InputOffset()))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("baseline %s: %s: trailing data after the baseline object", name,
			position(data, dec.InputOffset()))
	}
	if err := b.check(); err != nil {
		return nil, fmt.Errorf("baseline %s: %w", name, err)
	}
	return &b, nil
}

// ReadBaselineFile reads the baseline at path; a path ending in .gz is gzip-compressed
// (large development runs are committed that way).
func ReadBaselineFile(path string) (*Baseline, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	defer f.Close()
	if !strings.HasSuffix(path, ".gz") {
		return ReadBaseline(f, path)
	}
	z, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer z.Close()
	return ReadBaseline(z, path)
}

// check enforces what a baseline must hold to be compared against.
func (b *Baseline) check() error {
	switch {
	case b.Target == "":
		return errors.New("field target: empty")
	case b.Scenario == "":
		return errors.New("field scenario: empty")
	case b.RecordedAt.IsZero():
		return errors.New("field recorded_at: missing")
	case b.Meta.Protocol < 1 || b.Meta.Protocol > ProtocolVersion:
		return fmt.Errorf("field meta.protocol: %d, want 1..%d", b.Meta.Protocol, ProtocolVersion)
	case b.Meta.Engine == "":
		return errors.New("field meta.engine: empty")
	case b.Meta.Timestamps != "engine" && b.Meta.Timestamps != "client":
		return fmt.Errorf(`field meta.timestamps: %q, want "engine" or "client"`, b.Meta.Timestamps)
	case len(b.Repetitions) == 0:
		return errors.New("field repetitions: empty")
	case b.Import != nil && (b.Import.Tool == "" || b.Import.File == "" || len(b.Import.SHA256) != 64):
		return errors.New("field import: tool, file and a 64-digit sha256 are required")
	case b.Import != nil && b.Meta.Timestamps != "client":
		return fmt.Errorf("field meta.timestamps: %q, but an imported run's times are the client's", b.Meta.Timestamps)
	}
	for i, rep := range b.Repetitions {
		where := fmt.Sprintf("repetitions[%d]", i)
		if rep.Index != i {
			return fmt.Errorf("field %s.index: %d, want %d", where, rep.Index, i)
		}
		if len(rep.SubmittedS) != len(rep.Records) {
			return fmt.Errorf("field %s.submitted_s: %d values for %d records", where, len(rep.SubmittedS),
				len(rep.Records))
		}
		seen := map[string]bool{}
		for j, rec := range rep.Records {
			if err := checkRecord(rec); err != nil {
				return fmt.Errorf("field %s.records[%d]: %w", where, j, err)
			}
			if seen[rec.ID] {
				return fmt.Errorf("field %s.records[%d]: id %q repeats", where, j, rec.ID)
			}
			seen[rec.ID] = true
		}
	}
	return nil
}

// describeJSONError turns a decoding error into "line L, column C: field F: …".
func describeJSONError(data []byte, err error, offset int64) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return fmt.Sprintf("%s: field %s: cannot use JSON %s as %s", position(data, typeErr.Offset), typeErr.Field,
			typeErr.Value, typeErr.Type)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("%s: %v", position(data, syntaxErr.Offset), syntaxErr)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	// An unknown-field error carries no offset (the decoder has read the whole value
	// by then): point at the first place the name is used as a key.
	if name, ok := strings.CutPrefix(msg, "unknown field "); ok {
		key := regexp.MustCompile(regexp.QuoteMeta(name) + `\s*:`)
		if loc := key.FindIndex(data); loc != nil {
			offset = int64(loc[0])
		}
	}
	return fmt.Sprintf("%s: %s", position(data, offset), msg)
}

// position renders a byte offset as a 1-based line and column.
func position(data []byte, offset int64) string {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int64(len(before) - bytes.LastIndexByte(before, '\n'))
	return fmt.Sprintf("line %d, column %d", line, col)
}

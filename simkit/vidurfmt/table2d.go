package vidurfmt

import (
	"cmp"
	"math"
	"slices"
)

// Table2D is one prediction table with two integer features, e.g. attn_decode's
// (batch_size, kv_cache_size). It is stored as one row per first key, each row's
// second keys sorted: Vidur's grids are dense in the first feature and sparse in the
// second (attn_prefill keys chunk sizes squared), and a look-up is a binary search
// with no hashing.
type Table2D struct {
	Op       string
	Features [2]string
	rowOf    []int32 // first key → index into rows, -1 where absent
	rows     []table2DRow
	n        int
}

type table2DRow struct {
	keys []int
	vals []float64
}

// At returns the prediction for (a, b), and false where the table has no such key.
func (t *Table2D) At(a, b int) (float64, bool) {
	if a < 0 || a >= len(t.rowOf) || t.rowOf[a] < 0 {
		return 0, false
	}
	r := &t.rows[t.rowOf[a]]
	i, ok := slices.BinarySearch(r.keys, b)
	if !ok {
		return 0, false
	}
	return r.vals[i], true
}

// Len is the number of keys the table holds.
func (t *Table2D) Len() int { return t.n }

// maxTable2DFirstKey bounds the first feature (batch sizes, KV-cache sizes), so that
// a corrupt key cannot allocate without limit.
const maxTable2DFirstKey = 1 << 22

// table2DBuilder collects (a, b, v) in any order.
type table2DBuilder struct{ t *Table2D }

func newTable2DBuilder(op string, features [2]string) *table2DBuilder {
	return &table2DBuilder{t: &Table2D{Op: op, Features: features}}
}

// add appends one entry; the keys must satisfy validKeys2D.
func (bld *table2DBuilder) add(a, b int, v float64) {
	t := bld.t
	for len(t.rowOf) <= a {
		t.rowOf = append(t.rowOf, -1)
	}
	if t.rowOf[a] < 0 {
		t.rowOf[a] = int32(len(t.rows))
		t.rows = append(t.rows, table2DRow{})
	}
	r := &t.rows[t.rowOf[a]]
	r.keys = append(r.keys, b)
	r.vals = append(r.vals, v)
	t.n++
}

// finish sorts each row by its second key and reports the first repeated key, if
// any (ok false).
func (bld *table2DBuilder) finish() (t *Table2D, dupA, dupB int, ok bool) {
	t = bld.t
	for a, ri := range t.rowOf {
		if ri < 0 {
			continue
		}
		r := &t.rows[ri]
		if !slices.IsSorted(r.keys) {
			idx := make([]int, len(r.keys))
			for i := range idx {
				idx[i] = i
			}
			slices.SortStableFunc(idx, func(x, y int) int { return cmp.Compare(r.keys[x], r.keys[y]) })
			keys, vals := make([]int, len(idx)), make([]float64, len(idx))
			for i, j := range idx {
				keys[i], vals[i] = r.keys[j], r.vals[j]
			}
			r.keys, r.vals = keys, vals
		}
		for i := 1; i < len(r.keys); i++ {
			if r.keys[i] == r.keys[i-1] {
				return t, a, r.keys[i], false
			}
		}
	}
	return t, 0, 0, true
}

// validKeys2D: a in [0, maxTable2DFirstKey], b in [0, 2^32).
func validKeys2D(a, b int) bool {
	return a >= 0 && b >= 0 && a <= maxTable2DFirstKey && b <= math.MaxUint32
}

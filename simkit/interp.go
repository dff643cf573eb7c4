package simkit

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// table1 is a profiled quantity of one key, interpolated piecewise-linearly between
// profiled points. Look-ups outside [xs[0], xs[n−1]] are errors unless extrapolation
// is allowed.
type table1 struct {
	name, key string // for messages: "mlp.csv", "num_tokens"
	xs, ys    []float64
}

// table2 is a profiled quantity of two keys over a grid that is the product of its
// axes, possibly with points missing (grids cut along a diagonal, such as
// kv_cache_size + chunk ≤ max length, or num_tokens ≥ batch_size). Inside a cell whose
// four corners were profiled it is bilinear; inside a cell with three, it is linear
// on the triangle they span. Elsewhere the point is outside the grid.
type table2 struct {
	name, xkey, ykey string
	xs, ys           []float64
	v                []float64 // len(xs)×len(ys), by x then y; NaN = not profiled
	lines            []table1  // per x, its profiled points, for extrapolation
}

// point is one profiled value.
type point struct{ x, y, v float64 }

// lookup carries one predictor's extrapolation policy and what it extrapolated.
type lookup struct {
	allow bool
	seen  map[string]*outOfGrid
}

// outOfGrid summarises the extrapolated look-ups of one table.
type outOfGrid struct {
	count          int
	lo, hi         [2]float64
	gridLo, gridHi [2]float64
	keys           [2]string
	dims           int
}

func (lk *lookup) note(name string, dims int, keys [2]string, key, gridLo, gridHi [2]float64) {
	o := lk.seen[name]
	if o == nil {
		o = &outOfGrid{lo: key, hi: key, gridLo: gridLo, gridHi: gridHi, keys: keys, dims: dims}
		lk.seen[name] = o
	}
	o.count++
	for d := range dims {
		o.lo[d], o.hi[d] = min(o.lo[d], key[d]), max(o.hi[d], key[d])
	}
}

// warnings lists the extrapolations, one line per table, sorted by table.
func (lk *lookup) warnings() []string {
	names := make([]string, 0, len(lk.seen))
	for n := range lk.seen {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]string, 0, len(names))
	for _, n := range names {
		o := lk.seen[n]
		var grid, keys string
		for d := range o.dims {
			if d > 0 {
				grid, keys = grid+", ", keys+", "
			}
			grid += fmt.Sprintf("%s [%g, %g]", o.keys[d], o.gridLo[d], o.gridHi[d])
			keys += fmt.Sprintf("%s %g..%g", o.keys[d], o.lo[d], o.hi[d])
		}
		out = append(out, fmt.Sprintf("%s: %d look-ups outside the profiled grid (%s) extrapolated linearly (%s)",
			n, o.count, grid, keys))
	}
	return out
}

// newTable1 sorts points by x and averages points with equal x.
func newTable1(name, key string, pts []point) *table1 {
	slices.SortStableFunc(pts, func(a, b point) int { return cmp.Compare(a.x, b.x) })
	t := &table1{name: name, key: key}
	for i := 0; i < len(pts); {
		j, sum := i, 0.0
		for ; j < len(pts) && pts[j].x == pts[i].x; j++ {
			sum += pts[j].v
		}
		t.xs = append(t.xs, pts[i].x)
		t.ys = append(t.ys, sum/float64(j-i))
		i = j
	}
	return t
}

// newTable2 places points (x, y, v) on the product of their distinct x and y values,
// averaging repeated points.
func newTable2(name, xkey, ykey string, pts []point) *table2 {
	t := &table2{name: name, xkey: xkey, ykey: ykey}
	for _, p := range pts {
		t.xs = append(t.xs, p.x)
		t.ys = append(t.ys, p.y)
	}
	slices.Sort(t.xs)
	slices.Sort(t.ys)
	t.xs, t.ys = slices.Compact(t.xs), slices.Compact(t.ys)
	ny := len(t.ys)
	sum := make([]float64, len(t.xs)*ny)
	n := make([]int, len(sum))
	for _, p := range pts {
		i, _ := slices.BinarySearch(t.xs, p.x)
		j, _ := slices.BinarySearch(t.ys, p.y)
		sum[i*ny+j] += p.v
		n[i*ny+j]++
	}
	t.v = make([]float64, len(sum))
	for k := range sum {
		t.v[k] = math.NaN()
		if n[k] > 0 {
			t.v[k] = sum[k] / float64(n[k])
		}
	}
	for i, x := range t.xs {
		line := table1{name: name, key: ykey}
		for j, y := range t.ys {
			if v := t.v[i*ny+j]; !math.IsNaN(v) {
				line.xs, line.ys = append(line.xs, y), append(line.ys, v)
			}
		}
		_ = x
		t.lines = append(t.lines, line)
	}
	return t
}

// locate finds i and f with x = axis[i] + f·(axis[i+1] − axis[i]), 0 ≤ f < 1 (f = 0 at
// a grid value, so grid values are returned exactly); ok is false outside the axis.
func locate(axis []float64, x float64) (i int, f float64, ok bool) {
	n := len(axis)
	if n == 0 || !(x >= axis[0] && x <= axis[n-1]) {
		return 0, 0, false
	}
	j := sort.SearchFloat64s(axis, x)
	if axis[j] == x {
		return j, 0, true
	}
	return j - 1, (x - axis[j-1]) / (axis[j] - axis[j-1]), true
}

// ErrOutsideGrid is what errors.Is finds in a prediction that needed a look-up outside
// the profiled grid while extrapolation was off (Options.Extrapolate).
var ErrOutsideGrid = errors.New("outside the profiled grid")

// gridError is a look-up outside the profiled grid; it is ErrOutsideGrid.
type gridError struct{ msg string }

func (e *gridError) Error() string { return e.msg }

func (e *gridError) Is(target error) bool { return target == ErrOutsideGrid }

func lerp(a, b, f float64) float64 { return a + f*(b-a) }

func (t *table1) at(x float64, lk *lookup) (float64, error) {
	if i, f, ok := locate(t.xs, x); ok {
		if f == 0 {
			return t.ys[i], nil
		}
		return lerp(t.ys[i], t.ys[i+1], f), nil
	}
	if len(t.xs) == 0 {
		return 0, fmt.Errorf("%s: no profiled points", t.name)
	}
	lo, hi := t.xs[0], t.xs[len(t.xs)-1]
	if !lk.allow {
		return 0, &gridError{fmt.Sprintf("%s: %s %g outside profiled range [%g, %g]", t.name, t.key, x, lo, hi)}
	}
	lk.note(t.name, 1, [2]string{t.key}, [2]float64{x}, [2]float64{lo}, [2]float64{hi})
	return t.extrapolated(x), nil
}

// extrapolated continues the first or last segment linearly (a single point is
// constant), never below 0.
func (t *table1) extrapolated(x float64) float64 {
	n := len(t.xs)
	if n == 1 {
		return t.ys[0]
	}
	i := 0
	switch {
	case x > t.xs[n-1]:
		i = n - 2
	case x >= t.xs[0]:
		j, _, _ := locate(t.xs, x)
		i = min(j, n-2)
	}
	return max(0, t.ys[i]+(x-t.xs[i])*(t.ys[i+1]-t.ys[i])/(t.xs[i+1]-t.xs[i]))
}

func (t *table2) val(i, j int) float64 { return t.v[i*len(t.ys)+j] }

func (t *table2) at(x, y float64, lk *lookup) (float64, error) {
	i, fx, okx := locate(t.xs, x)
	j, fy, oky := locate(t.ys, y)
	if okx && oky {
		if v, ok := t.cell(i, j, fx, fy); ok {
			return v, nil
		}
	}
	lo := [2]float64{t.xs[0], t.ys[0]}
	hi := [2]float64{t.xs[len(t.xs)-1], t.ys[len(t.ys)-1]}
	if !lk.allow {
		return 0, &gridError{fmt.Sprintf("%s: (%s %g, %s %g) outside the profiled grid (%s [%g, %g], %s [%g, %g])",
			t.name, t.xkey, x, t.ykey, y, t.xkey, lo[0], hi[0], t.ykey, lo[1], hi[1])}
	}
	lk.note(t.name, 2, [2]string{t.xkey, t.ykey}, [2]float64{x, y}, lo, hi)
	return t.extrapolated(x, y), nil
}

// cell interpolates inside grid cell (i, j) at fractions (fx, fy).
func (t *table2) cell(i, j int, fx, fy float64) (float64, bool) {
	v00 := t.val(i, j)
	switch {
	case fx == 0 && fy == 0:
		return v00, !math.IsNaN(v00)
	case fx == 0:
		v01 := t.val(i, j+1)
		return lerp(v00, v01, fy), !math.IsNaN(v00) && !math.IsNaN(v01)
	case fy == 0:
		v10 := t.val(i+1, j)
		return lerp(v00, v10, fx), !math.IsNaN(v00) && !math.IsNaN(v10)
	}
	v01, v10, v11 := t.val(i, j+1), t.val(i+1, j), t.val(i+1, j+1)
	n00, n01, n10, n11 := math.IsNaN(v00), math.IsNaN(v01), math.IsNaN(v10), math.IsNaN(v11)
	switch {
	case !n00 && !n01 && !n10 && !n11:
		return lerp(lerp(v00, v01, fy), lerp(v10, v11, fy), fx), true
	case n11 && !n00 && !n01 && !n10 && fx+fy <= 1:
		return v00 + fx*(v10-v00) + fy*(v01-v00), true
	case n00 && !n01 && !n10 && !n11 && fx+fy >= 1:
		return v11 + (1-fx)*(v01-v11) + (1-fy)*(v10-v11), true
	case n10 && !n00 && !n01 && !n11 && fy >= fx:
		return v00 + fx*(v11-v01) + fy*(v01-v00), true
	case n01 && !n00 && !n10 && !n11 && fx >= fy:
		return v00 + fx*(v10-v00) + fy*(v11-v10), true
	}
	return 0, false
}

// extrapolated evaluates the two profiled x-lines around x (or the two outermost) at
// y, each extended linearly, and continues linearly between them; never below 0.
func (t *table2) extrapolated(x, y float64) float64 {
	n := len(t.xs)
	if n == 1 {
		return t.lines[0].extrapolated(y)
	}
	i := 0
	switch {
	case x > t.xs[n-1]:
		i = n - 2
	case x >= t.xs[0]:
		j, _, _ := locate(t.xs, x)
		i = min(j, n-2)
	}
	a, b := t.lines[i].extrapolated(y), t.lines[i+1].extrapolated(y)
	return max(0, a+(x-t.xs[i])*(b-a)/(t.xs[i+1]-t.xs[i]))
}

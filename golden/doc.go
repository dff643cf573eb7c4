// Package golden owns simval's golden files: the canonical JSON form of a
// simulator summary (fixed float formatting, a trailing newline), and a thin wrapper
// over goldie that keeps them in one reviewed folder per package,
// testdata/golden/<scenario>/<target>.json.
//
// Updating is explicit: GOLDIE_UPDATE=1 (or -update in a package that imports this
// one). An update while CI is set fails the test instead, so CI can never bless its
// own output. It does not decide what goes into a golden; callers do.
package golden

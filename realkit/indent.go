package realkit

import "bytes"

// indentTo re-indents compact JSON with two spaces per level, but only for containers
// nested less than maxDepth deep: deeper values stay on one line. A baseline written
// with maxDepth 4 keeps one line per request record and per engine step, so a file of
// thousands of steps stays readable and diffs line by line.
func indentTo(compact []byte, maxDepth int) []byte {
	var out bytes.Buffer
	out.Grow(len(compact) + len(compact)/8)
	depth, inString, escaped := 0, false, false
	newline := func(d int) {
		out.WriteByte('\n')
		for range d {
			out.WriteString("  ")
		}
	}
	for i := 0; i < len(compact); i++ {
		c := compact[i]
		if inString {
			out.WriteByte(c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
			out.WriteByte(c)
		case '{', '[':
			out.WriteByte(c)
			depth++
			if i+1 < len(compact) && (compact[i+1] == '}' || compact[i+1] == ']') {
				continue // empty container stays "{}" / "[]"
			}
			if depth <= maxDepth {
				newline(depth)
			}
		case '}', ']':
			prev := compact[i-1]
			if depth <= maxDepth && prev != '{' && prev != '[' {
				newline(depth - 1)
			}
			depth--
			out.WriteByte(c)
		case ',':
			out.WriteByte(c)
			if depth <= maxDepth {
				newline(depth)
			}
		case ':':
			out.WriteByte(c)
			if depth <= maxDepth {
				out.WriteByte(' ')
			}
		default:
			out.WriteByte(c)
		}
	}
	return out.Bytes()
}

package simkit

// RequestQueue is a FIFO of requests that also takes requests back at its front
// (Vidur prepends restarted requests to the waiting queue). Its storage is reused, so
// steady-state pushes and pops do not allocate.
type RequestQueue struct {
	buf  []*SimRequest
	head int
}

// Len is the number of queued requests.
func (q *RequestQueue) Len() int { return len(q.buf) - q.head }

// Front is the first request; the queue must not be empty.
func (q *RequestQueue) Front() *SimRequest { return q.buf[q.head] }

// At is the i-th request from the front.
func (q *RequestQueue) At(i int) *SimRequest { return q.buf[q.head+i] }

// PushBack appends r.
func (q *RequestQueue) PushBack(r *SimRequest) {
	if q.head > 0 && len(q.buf) == cap(q.buf) {
		n := copy(q.buf, q.buf[q.head:])
		clear(q.buf[n:])
		q.buf = q.buf[:n]
		q.head = 0
	}
	q.buf = append(q.buf, r)
}

// PushFront puts r at the front.
func (q *RequestQueue) PushFront(r *SimRequest) {
	if q.head > 0 {
		q.head--
		q.buf[q.head] = r
		return
	}
	q.buf = append(q.buf, nil)
	copy(q.buf[1:], q.buf)
	q.buf[0] = r
}

// PopFront removes and returns the first request; the queue must not be empty.
func (q *RequestQueue) PopFront() *SimRequest {
	r := q.buf[q.head]
	q.buf[q.head] = nil
	q.head++
	if q.head == len(q.buf) {
		q.buf = q.buf[:0]
		q.head = 0
	}
	return r
}

// Package keycache remembers strings a caller has found to have some
// property, so that the check need not run again: a fixed-size, lock-free
// set of strings, safe for concurrent use, that never allocates to answer.
//
// An audit Handler checks the key of every attribute of every record for a
// secret name, a secret shape, an audit key of its own and a migration
// rename. Keys are few and repeat, so the verdict "nothing to do for this
// key" is kept here, per configuration, and a key seen before is settled by
// one comparison.
//
// The set is a filter that may forget but never invents: [Set.Has] reports
// true only for a string that was added, byte for byte. A string that
// finds its slots taken is simply not kept, and is checked in full each
// time, as it would be without the set. Strings are copied when added, so
// a caller that reuses a buffer behind a string (as some zero-allocation
// loggers do, with unsafe) cannot change what the set holds.
package keycache

import (
	"hash/maphash"
	"math/bits"
	"strings"
	"sync/atomic"
)

// Size is the number of slots of a Set: the most strings it keeps.
const Size = 512

// probes is the number of neighbouring slots a string may take: a string
// whose first slot is taken by another still has a place.
const probes = 2

// maxLen is the length of the longest string kept: keys and log messages
// are short, and a long string would make the comparison cost what the
// check costs.
const maxLen = 128

// A Set is a set of at most [Size] strings. Make one with [New]. A Set
// must not be copied after first use.
type Set struct {
	// seed is random per Set, so that no input can be made to take the
	// slots of a known key before it is added.
	seed  uint64
	slots [Size]atomic.Pointer[entry]
}

// An entry is a string kept, with the words Has compares first. It never
// changes once made.
type entry struct {
	head, tail uint64 // see words
	s          string // a copy of the string added
}

// New returns an empty Set.
func New() *Set {
	var h maphash.Hash // a zero Hash has a random seed: its sum is random
	return &Set{seed: h.Sum64()}
}

// words returns two words that hold the first and the last eight bytes of
// s, a string of 1 to maxLen bytes; for a shorter string they hold all of
// its bytes. Two strings of the same length with the same words are equal
// if they are at most 16 bytes long, or if their bytes in between are.
func words(s string) (head, tail uint64) {
	switch n := len(s); {
	case n >= 8:
		return load64(s), load64(s[n-8:])
	case n >= 4:
		return uint64(load32(s)), uint64(load32(s[n-4:]))
	default:
		for i := 0; i < n; i++ {
			head = head<<8 | uint64(s[i])
		}
		return head, 0
	}
}

// slot returns the first slot of a string of n bytes with the given words:
// a string that differs from another only beyond the first and last eight
// bytes shares its slots, and whichever comes later is not kept.
func (c *Set) slot(head, tail uint64, n int) int {
	hi, lo := bits.Mul64(head^c.seed, tail^uint64(n)^0x9e3779b97f4a7c15)
	return int((hi ^ lo) % Size)
}

func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func load32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// is reports whether e holds s, whose words are head and tail.
func (e *entry) is(s string, head, tail uint64) bool {
	n := len(s)
	return e.head == head && e.tail == tail && len(e.s) == n && (n <= 16 || e.s[8:n-8] == s[8:n-8])
}

// Has reports whether s was added to the set.
func (c *Set) Has(s string) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	head, tail := words(s)
	j := c.slot(head, tail, len(s))
	for i := 0; i < probes; i, j = i+1, (j+1)%Size {
		if e := c.slots[j].Load(); e != nil && e.is(s, head, tail) {
			return true
		}
	}
	return false
}

// Add adds a copy of s to the set if keep reports true for that copy and
// one of its slots is free, and does nothing otherwise. keep decides on
// the copy, which nothing else can change: a caller that built s over a
// buffer it reuses (with unsafe) cannot have one text checked and another
// kept. Slots once taken are never given to another string, so that keys
// seen early, the keys of a program's own log calls, keep their place
// whatever comes later; when s has no free slot, nothing is copied and
// keep is not called.
func (c *Set) Add(s string, keep func(string) bool) {
	if s == "" || len(s) > maxLen || !c.hasRoom(s) {
		return
	}
	cp := strings.Clone(s)
	if !keep(cp) {
		return
	}
	head, tail := words(cp)
	e := &entry{head: head, tail: tail, s: cp}
	j := c.slot(head, tail, len(cp))
	for i := 0; i < probes; i, j = i+1, (j+1)%Size {
		if old := c.slots[j].Load(); old != nil {
			if old.is(cp, head, tail) {
				return
			}
			continue
		}
		if c.slots[j].CompareAndSwap(nil, e) {
			return
		}
		if c.slots[j].Load().is(cp, head, tail) {
			return // another goroutine added it first
		}
	}
}

// hasRoom reports whether s, a string of 1 to maxLen bytes, is not in the
// set and one of its slots is free.
func (c *Set) hasRoom(s string) bool {
	head, tail := words(s)
	j := c.slot(head, tail, len(s))
	room := false
	for i := 0; i < probes; i, j = i+1, (j+1)%Size {
		e := c.slots[j].Load()
		if e == nil {
			room = true
		} else if e.is(s, head, tail) {
			return false
		}
	}
	return room
}

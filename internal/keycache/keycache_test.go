package keycache

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

func TestSet(t *testing.T) {
	for _, tc := range []struct {
		name  string
		add   []string
		has   []string
		hasNo []string
	}{
		{"empty set", nil, nil, []string{"path", "a", ""}},
		{"added keys", []string{"path", "count", "content_type"}, []string{"path", "count", "content_type"}, []string{"pat", "paths", "Path", "content_typ"}},
		{"empty string is never kept", []string{""}, nil, []string{""}},
		{"long strings are never kept", []string{string(make([]byte, maxLen+1))}, []string{string(make([]byte, maxLen))}[:0], []string{string(make([]byte, maxLen+1))}},
		{"same slot, other bytes", []string{"ab"}, []string{"ab"}, []string{"ba"[:0] + "bb", "aa"}},
		{"adding twice keeps one", []string{"took", "took"}, []string{"took"}, []string{"tool"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New()
			for _, a := range tc.add {
				s.Add(a, keepAll)
			}
			for _, h := range tc.has {
				if !s.Has(h) {
					t.Errorf("Has(%q) = false, want true", h)
				}
			}
			for _, h := range tc.hasNo {
				if s.Has(h) {
					t.Errorf("Has(%q) = true, want false", h)
				}
			}
		})
	}
}

// TestSetNeverInvents fills the set far beyond its size and checks that
// every string it reports was added, and that it keeps many of them.
func TestSetNeverInvents(t *testing.T) {
	s := New()
	added := map[string]bool{}
	for i := 0; i < 4*Size; i++ {
		k := fmt.Sprintf("key_%d", i)
		s.Add(k, keepAll)
		added[k] = true
	}
	kept := 0
	for i := 0; i < 8*Size; i++ {
		k := fmt.Sprintf("key_%d", i)
		if s.Has(k) {
			if !added[k] {
				t.Fatalf("Has(%q) = true for a string never added", k)
			}
			kept++
		}
	}
	if kept > Size {
		t.Fatalf("kept %d strings, more than the %d slots", kept, Size)
	}
	if kept < Size/2 {
		t.Errorf("kept %d strings of %d slots: the slots are badly spread", kept, Size)
	}
}

// TestSetFirstComeKeepsItsPlace checks that a string, once kept, stays
// kept whatever is added after it.
func TestSetFirstComeKeepsItsPlace(t *testing.T) {
	s := New()
	s.Add("request_id", keepAll)
	for i := 0; i < 10*Size; i++ {
		s.Add(fmt.Sprintf("k%d", i), keepAll)
	}
	if !s.Has("request_id") {
		t.Fatal("a string kept first was dropped for later ones")
	}
}

func keepAll(string) bool { return true }

// TestSetKeepsWhatWasChecked checks that Add asks keep about its own copy:
// bytes behind the string that change while keep decides do not change
// what is kept, and a string keep turns down is not kept.
func TestSetKeepsWhatWasChecked(t *testing.T) {
	s := New()
	buf := []byte("pass")
	s.Add(unsafe.String(&buf[0], len(buf)), func(cp string) bool {
		copy(buf, "path") // the caller's bytes change under the check
		return cp == "pass"
	})
	if !s.Has("pass") || s.Has("path") {
		t.Fatalf(`Has("pass") = %v, Has("path") = %v: keep did not decide on the copy`, s.Has("pass"), s.Has("path"))
	}
	s.Add("token", func(string) bool { return false })
	if s.Has("token") {
		t.Fatal("a string keep turned down was kept")
	}
}

// TestSetCopies checks that the set holds its own copy: changing the bytes
// behind an added string, as code that builds strings over a reused buffer
// with unsafe does, changes nothing the set reports.
func TestSetCopies(t *testing.T) {
	s := New()
	buf := []byte("path")
	s.Add(unsafe.String(&buf[0], len(buf)), keepAll)
	copy(buf, "pass")
	if s.Has("pass") {
		t.Fatal(`Has("pass") = true after the bytes behind an added "path" were overwritten`)
	}
	if !s.Has("path") {
		t.Fatal(`Has("path") = false: the set did not keep its own copy`)
	}
}

func TestSetConcurrent(t *testing.T) {
	s := New()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				k := fmt.Sprintf("k%d", i%300)
				s.Add(k, keepAll)
				if !s.Has(k) && s.Has(k+"x") {
					t.Errorf("Has(%q) = true for a string never added", k+"x")
				}
			}
		}()
	}
	wg.Wait()
	for i := 0; i < 300; i++ {
		if k := fmt.Sprintf("k%dx", i); s.Has(k) {
			t.Errorf("Has(%q) = true for a string never added", k)
		}
	}
}

func BenchmarkHas(b *testing.B) {
	s := New()
	keys := []string{"path", "count", "recursive", "took", "content_type"}
	for _, k := range keys {
		s.Add(k, keepAll)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, k := range keys {
			if !s.Has(k) {
				b.Fatal("miss")
			}
		}
	}
}

// FuzzSet adds the fuzzed strings, split at newlines, to one Set shared by
// all inputs, and checks Has against a model of what was added: the set
// may forget a string (its slots were taken) but never reports one it was
// not given, nor one that differs from a kept string in a single byte.
func FuzzSet(f *testing.F) {
	f.Add("path\ncount\ncontent_type", "path")
	f.Add("a_rather_long_key_that_differs_in_the_middle_0001", "a_rather_long_key_that_differs_in_the_middle_0002")
	s := New()
	added := map[string]bool{}
	var mu sync.Mutex // the fuzzing engine may run inputs in parallel
	f.Fuzz(func(t *testing.T, adds, query string) {
		mu.Lock()
		defer mu.Unlock()
		for _, a := range strings.Split(adds, "\n") {
			s.Add(a, keepAll)
			added[a] = true
		}
		for _, q := range append(strings.Split(adds, "\n"), query) {
			if s.Has(q) && !added[q] {
				t.Fatalf("Has(%q) = true for a string never added", q)
			}
			for i := 0; i < len(q); i++ {
				v := q[:i] + string(q[i]^0x20) + q[i+1:]
				if s.Has(v) && !added[v] {
					t.Fatalf("Has(%q) = true for a string never added (one byte from %q)", v, q)
				}
			}
		}
	})
}

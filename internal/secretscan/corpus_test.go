package secretscan

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// TestOrdinaryCorpus checks that realistic ordinary log lines (web
// servers, SSH and PAM, Hadoop, Spark, ZooKeeper, OpenStack, the kernel,
// macOS, Android, Kubernetes events; ids, hashes, URLs with user names,
// Basic realm challenges, PWD and OLDPWD) pass the scanner untouched.
// Line breaks inside one record are written as \n in the file.
func TestOrdinaryCorpus(t *testing.T) {
	f, err := os.Open("../../testdata/ordinary.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		line := strings.ReplaceAll(sc.Text(), `\n`, "\n")
		n++
		if got, found := Mask(line, testMarker, testKeys); found || got != line {
			t.Errorf("line %d: Mask(%q) = %q, %v; want it unchanged", n, line, got, found)
		}
		if Contains(line, testMarker, testKeys) {
			t.Errorf("line %d: Contains(%q) = true", n, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 300 {
		t.Fatalf("corpus has %d lines; want hundreds", n)
	}
}

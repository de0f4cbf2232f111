package storagetest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// SmallFilesystem mounts a tmpfs of size bytes on a new directory under t.TempDir and
// unmounts it when the test ends, for tests of a really full disk. Mounting needs root (or
// CAP_SYS_ADMIN); without it the test is skipped with a message saying how to run it.
func SmallFilesystem(t testing.TB, size int64) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "small-fs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a tmpfs to fill (%v: %s); run this test as root, or with CAP_SYS_ADMIN, to test a really full disk: sudo go test -run '%s' ./...", err, out, t.Name())
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// FillFilesystem writes a file of zeros into dir until the file system is full, and returns
// its path: removing it frees the space again.
func FillFilesystem(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, errNoSpace) {
				t.Fatalf("fill %s: %v", dir, err)
			}
			return path
		}
	}
}

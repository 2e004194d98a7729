package image

import (
	"bytes"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// upload stores an image's data: PUT /v2/images/{id}/file with application/octet-stream.
// The image goes queued -> active with its size, MD5 checksum and SHA-512 hash recorded.
func (s *Service) upload(w http.ResponseWriter, r *http.Request) error {
	im, p, err := s.lookup(r)
	if err != nil {
		return err
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/octet-stream" {
		return httpapi.Errorf(http.StatusUnsupportedMediaType, "UnsupportedMediaType",
			"Invalid content type %s", orNone(ct))
	}
	if !canModify(p, &im) {
		return forbidden("You are not permitted to upload data to this image.")
	}
	if im.Status != StatusQueued {
		return httpapi.Conflict("Image status transition from %s to saving is not allowed", im.Status)
	}
	var missing []string
	if im.DiskFormat == "" {
		missing = append(missing, "disk_format")
	}
	if im.ContainerFormat == "" {
		missing = append(missing, "container_format")
	}
	if len(missing) > 0 {
		return httpapi.BadRequest("Properties %s must be set prior to saving data.", strings.Join(missing, ", "))
	}

	md := md5.New()
	sha := sha512.New()
	sinks := []io.Writer{md, sha}
	var (
		file *os.File
		tmp  string
		buf  bytes.Buffer
	)
	if s.opts.DataDir != "" {
		f, err := os.CreateTemp(s.opts.DataDir, im.ID+".upload-*")
		if err != nil {
			return fmt.Errorf("storing data of image %s: %w", im.ID, err)
		}
		file, tmp = f, f.Name()
		defer func() {
			file.Close()
			os.Remove(tmp) // a no-op once renamed
		}()
		sinks = append(sinks, f)
	}
	counted := &limitedBuffer{buf: &buf, max: maxInlineData}
	if file == nil {
		sinks = append(sinks, counted)
	}
	size, err := io.Copy(io.MultiWriter(sinks...), r.Body)
	if err != nil {
		return httpapi.BadRequest("Error reading the image data: %v", err)
	}
	kept := ""
	switch {
	case file != nil:
		if err := file.Close(); err != nil {
			return fmt.Errorf("storing data of image %s: %w", im.ID, err)
		}
		if err := os.Rename(tmp, s.dataPath(im.ID)); err != nil {
			return fmt.Errorf("storing data of image %s: %w", im.ID, err)
		}
		kept = "file"
	case !counted.over:
		kept = "store"
	}
	err = s.env.DB.Update(func(tx *store.Tx) error {
		v, err := s.images.Modify(tx, im.ID, func(v *Image) error {
			if v.Status != StatusQueued {
				return httpapi.Conflict("Image status transition from %s to saving is not allowed", v.Status)
			}
			v.Status = StatusActive
			v.Size = &size
			v.Checksum = hex.EncodeToString(md.Sum(nil))
			v.HashAlgo = "sha512"
			v.HashValue = hex.EncodeToString(sha.Sum(nil))
			v.DataKept = kept
			v.UpdatedAt = time.Now().UTC().Truncate(time.Second)
			return nil
		})
		if err != nil {
			return err
		}
		if kept == "store" {
			if err := s.data.Put(tx, im.ID, imageData{Data: buf.Bytes()}); err != nil {
				return err
			}
		}
		s.emit(tx, &v, "status", fmt.Sprintf("%s (%d bytes uploaded)", StatusActive, size))
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// limitedBuffer keeps at most max bytes and notes when more were written.
type limitedBuffer struct {
	buf  *bytes.Buffer
	max  int
	over bool
}

// Write keeps p while the buffer stays within its limit; it never fails.
func (l *limitedBuffer) Write(p []byte) (int, error) {
	if !l.over {
		if l.buf.Len()+len(p) > l.max {
			l.over = true
			l.buf.Reset()
		} else {
			l.buf.Write(p)
		}
	}
	return len(p), nil
}

// download serves an image's data: 204 when the image has none (or only its size and hash
// were recorded), 403 for a deactivated image unless the caller is an admin.
func (s *Service) download(w http.ResponseWriter, r *http.Request) error {
	im, p, err := s.lookup(r)
	if err != nil {
		return err
	}
	if im.Status == StatusDeactivated && !p.IsAdmin() {
		return forbidden("The requested image has been deactivated. Image data download is forbidden.")
	}
	var body io.Reader
	switch im.DataKept {
	case "file":
		f, err := os.Open(s.dataPath(im.ID))
		if err != nil {
			return httpapi.Errorf(http.StatusGone, "Gone", "The data of image %s is no longer available.", im.ID)
		}
		defer f.Close()
		body = f
	case "store":
		d, ok := s.data.Get(im.ID)
		if !ok {
			return httpapi.Errorf(http.StatusGone, "Gone", "The data of image %s is no longer available.", im.ID)
		}
		body = bytes.NewReader(d.Data)
	default:
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if im.Checksum != "" {
		w.Header().Set("Content-MD5", im.Checksum)
	}
	if im.Size != nil {
		w.Header().Set("Content-Length", strconv.FormatInt(*im.Size, 10))
	}
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, body)
	return nil
}

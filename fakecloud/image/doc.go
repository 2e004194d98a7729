// Package image is fakecloud's Glance: the Image service API v2 served under /image.
//
// It keeps images (with Glance's core attributes, tags and free-form string properties at
// the top level of the image document), lets their owners change them with JSON patch, and
// accepts image data uploads: the size, MD5 checksum and SHA-512 multihash are recorded, and
// the data itself is kept under Options.DataDir when one is set (or, without one, in the store
// for small images only). Owners share images with other projects through image members,
// which those accept or reject. Nova looks images up through the services.Images contract, which
// Service implements. Seed creates one public, active image per pinned Kubernetes version.
package image

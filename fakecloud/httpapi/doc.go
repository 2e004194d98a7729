// Package httpapi is what every fakecloud service shares on the HTTP side: routing with an
// operation name per route (which faults and the event log refer to), authentication of
// X-Auth-Token into a Principal, request decoding with size limits and clear 4xx errors, error
// bodies in the shape each real OpenStack service uses, pagination and filters.
package httpapi

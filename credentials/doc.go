// Package credentials is tongban's licence model (证照): the kinds of licence
// a wallet holds, their documented fields, validation per kind, status over
// time, the link from a holder's number to all of their licences
// (一证通办), and the JSON Lines import format issuing authorities push.
//
// A Licence belongs to a natural person, named by resident ID number
// (居民身份证号码, GB 11643-1999), or — for a business licence — to a legal
// person, named by unified social credit code (统一社会信用代码,
// GB 32100-2015) and shown by authorised agents. Both numbers are validated
// by package idnumber.
//
// The package is an offline library: it imports no network, storage or
// OIDC code (DESIGN §1). Field lists and the import format are specified in
// docs/formats/licences.md; docs/examples/licences.jsonl is a demo file of
// every kind.
//
// Errors wrap the Err* sentinels in errors.go; test with errors.Is.
package credentials

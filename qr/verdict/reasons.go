package verdict

import (
	"errors"

	"github.com/tongban/tongban/qr"
)

// Reason explains a rejection to counter staff: Code is stable (the "reason" of `wallet verify
// --json` and of the browser verifier; scripts test it), ZH and EN say what it means and what to
// do, in plain words.
type Reason struct {
	Err    error  `json:"-"`
	Code   string `json:"reason"`
	ZH, EN string
}

// ErrUnreadableImage: no QR code could be read from an image (a scanner's PNG file).
var ErrUnreadableImage = errors.New("no QR code found in the image")

// Reasons lists every rejection in the verifier's order (DESIGN §5; qr.Verifier.Verify, then
// the trust-list and status-list errors); docs/verifiers/counter-guide.md §3 has the same
// table. The first entry whose Err matches (errors.Is) explains an error.
var Reasons = []Reason{
	{qr.ErrTooLong, "too_long", "不是通办证照二维码（内容过长）", "not a tongban licence code (too long)"},
	{qr.ErrBadPrefix, "bad_prefix", "不是通办证照二维码", "not a tongban licence code (no LZ1: prefix)"},
	{qr.ErrBadBase45, "bad_base45", "二维码内容损坏或被改动", "the code is damaged or was altered (bad base45)"},
	{qr.ErrBadCBOR, "bad_cbor", "二维码内容损坏或被改动", "the code is damaged or was altered (bad CBOR)"},
	{qr.ErrWrongAlgorithm, "wrong_algorithm", "签名算法不是 SM2，拒绝", "not signed with SM2: refused"},
	{qr.ErrStaleTrustList, "stale_trust_list", "信任列表已过期，请先更新信任列表", "the trust list is out of date: install a fresh one"},
	{qr.ErrUnknownKey, "unknown_key", "签名密钥不在信任列表中（请更新信任列表；仍失败则为伪造）", "signed by a key the trust list does not know (update the trust list; if it persists, the code is forged)"},
	{qr.ErrBadSignature, "bad_signature", "签名无效：二维码被伪造或改动", "the signature does not verify: the code is forged or altered"},
	{qr.ErrBadClaims, "bad_claims", "二维码内容格式错误", "the signed content is malformed"},
	{qr.ErrKeyNotAllowed, "key_not_allowed", "该签名密钥无权签发此类证照或显示内容", "the signing key may not sign this licence kind or display profile"},
	{qr.ErrNotYetValid, "not_yet_valid", "二维码尚未生效：请检查本机时间", "the code is not valid yet: check this device's clock"},
	{qr.ErrExpired, "expired", "二维码已过期：请持证人刷新后重新出示", "the code has expired: ask the holder to refresh it"},
	{qr.ErrValidityTooLong, "validity_too_long", "二维码有效期超过规定，拒绝", "the code's validity window is longer than allowed"},
	{qr.ErrStatusListMissing, "status_list_missing", "预取的离线二维码需要状态列表：请加载最新状态列表（--status-list）", "a pre-fetched offline code needs a status list that covers it: load a current one (--status-list)"},
	{qr.ErrStatusListStale, "stale_status_list", "状态列表已过期，请先更新状态列表", "the status list is out of date: install a fresh one"},
	{qr.ErrStatusRevoked, "licence_revoked", "证照已吊销，拒绝", "the licence is revoked: refused"},
	{qr.ErrStatusSuspended, "licence_suspended", "证照已暂扣，拒绝", "the licence is suspended: refused"},
	{qr.ErrReplayed, "replayed", "该二维码已被核验过（可能是截图重放）：请持证人刷新", "this code was already checked (a copy?): ask the holder to refresh it"},
	{qr.ErrBadTrustList, "bad_trust_list", "信任列表文件损坏", "the trust list file is damaged"},
	{qr.ErrRetiredAnchor, "untrusted_trust_list", "信任列表由已停用的旧信任锚签发：本机已随运营方切换到新的信任锚，不可使用此列表，请获取当前的信任列表", "the trust list is signed by a retired trust anchor: this counter has followed the operator's switch to the new anchor; do not use this list, get the current one"},
	{qr.ErrUntrustedTrustList, "untrusted_trust_list", "信任列表不是由固定的信任锚签发：若运营方已更换信任锚，请核对指纹后安装新的 trust-anchor.pem；否则不可使用", "the trust list is not signed by the pinned trust anchor: if the operator has rotated the anchor, install the new trust-anchor.pem after checking its fingerprint; otherwise do not use it"},
	{qr.ErrTrustListSignature, "trust_list_signature", "信任列表签名无效：文件被改动", "the trust list's signature does not verify: the file was altered"},
	{qr.ErrTrustListRollback, "trust_list_rolled_back", "信任列表比已使用过的版本旧（回滚），拒绝", "the trust list is older than one already used (rollback): refused"},
	{qr.ErrBadStatusList, "bad_status_list", "状态列表文件损坏", "the status list file is damaged"},
	{qr.ErrUntrustedStatusList, "untrusted_status_list", "状态列表不是由信任列表中的密钥签发，不可使用", "the status list is not signed by a key of the trust list: do not use it"},
	{qr.ErrStatusListSignature, "status_list_signature", "状态列表签名无效：文件被改动", "the status list's signature does not verify: the file was altered"},
	{ErrUnreadableImage, "unreadable_image", "图片中没有可识别的二维码", "no QR code could be read from the image"},
}

// ReasonOf returns the Reason that explains err: the first of Reasons whose Err it wraps, or
// the catch-all "error" (核验失败, verification failed) for any other error, e.g. a failing
// replay cache.
func ReasonOf(err error) Reason {
	for _, r := range Reasons {
		if errors.Is(err, r.Err) {
			return r
		}
	}
	return Reason{Err: err, Code: "error", ZH: "核验失败", EN: "verification failed"}
}

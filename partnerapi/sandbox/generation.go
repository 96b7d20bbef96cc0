package sandbox

// offerGenerated is offer for the reseller-side downloads
// (DescribeCustomerBillDownloadUrl, DescribeRebateDownloadUrl), whose
// answers document a file being generated ("Ready 0: generating; 1:
// generated"): the first request for a file starts building it and answers
// Ready 0 without a link; the next request for the same file finds it built
// and answers Ready 1 with its link, as does every later one. Building takes
// one request rather than a time so that tests see the state without
// waiting.
func (w *World) offerGenerated(c Caller, name string, spec fileSpec) (string, int64) {
	if _, built := w.files[name]; !built && !w.generating[name] {
		w.generating[name] = true
		return "", 0
	}
	delete(w.generating, name)
	return w.offer(c, name, spec), 1
}

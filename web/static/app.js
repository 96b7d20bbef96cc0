// Small behaviours that need script; every page works without it.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
	// Submit the language form as soon as a language is picked; the button
	// stays for browsers without script.
	document.querySelectorAll("form[data-autosubmit] select").forEach(function (sel) {
		sel.addEventListener("change", function () { sel.form.requestSubmit(); });
	});
});

// Ask before forms marked data-confirm are submitted without htmx.
document.addEventListener("submit", function (ev) {
	var msg = ev.target.getAttribute("data-confirm");
	if (msg && !window.confirm(msg)) {
		ev.preventDefault();
	}
});

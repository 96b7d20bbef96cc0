// Small behaviours that need script; every page works without it.
"use strict";

document.documentElement.classList.add("js");

// The browser's time zone, for people who have not chosen one: pages show
// times in it from the next page on.
(function () {
	try {
		var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
		if (zone && document.cookie.indexOf("tz=" + encodeURIComponent(zone)) < 0) {
			document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
		}
	} catch (e) { /* no Intl: times stay in UTC */ }
})();

document.addEventListener("DOMContentLoaded", function () {
	// The phone menu button opens and closes the navigation.
	var toggle = document.querySelector(".menu-toggle");
	var nav = document.getElementById("side-nav");
	if (toggle && nav) {
		toggle.addEventListener("click", function () {
			var open = !nav.classList.contains("open");
			nav.classList.toggle("open", open);
			toggle.setAttribute("aria-expanded", open ? "true" : "false");
			if (open) {
				var first = nav.querySelector("a");
				if (first) { first.focus(); }
			}
		});
	}
	applyConditions(document);
});

// Fields marked data-show-when="name=value[,value]" are shown only while
// the named select or radio group has one of those values.
function applyConditions(root) {
	root.querySelectorAll("[data-show-when]").forEach(function (field) {
		var spec = field.getAttribute("data-show-when").split("=");
		var form = field.closest("form");
		if (!form || spec.length !== 2) { return; }
		var control = form.elements[spec[0]];
		if (!control) { return; }
		var values = spec[1].split(",");
		var update = function () {
			var applies = values.indexOf(control.value) >= 0;
			field.classList.toggle("not-applicable", !applies);
			field.querySelectorAll("input, select, textarea").forEach(function (el) { el.disabled = !applies; });
		};
		(control.length && !control.tagName ? Array.prototype.slice.call(control) : [control]).forEach(function (c) {
			c.addEventListener("change", update);
		});
		update();
	});
}

// Ask before forms marked data-confirm are submitted.
document.addEventListener("submit", function (ev) {
	var msg = ev.target.getAttribute("data-confirm");
	if (msg && !window.confirm(msg)) {
		ev.preventDefault();
	}
});

// A hidden tab does not poll: its requests are skipped until it shows again.
document.addEventListener("htmx:beforeRequest", function (ev) {
	var trigger = ev.detail && ev.detail.elt && ev.detail.elt.getAttribute("hx-trigger");
	if (document.hidden && trigger && trigger.indexOf("every") === 0) {
		ev.preventDefault();
	}
});

// After htmx replaces a region: keep the focus where it was (htmx restores
// it for elements with an id; for others the region keeps it), and say in
// the polite live region what changed.
document.addEventListener("htmx:afterSettle", function (ev) {
	var target = ev.detail && ev.detail.target;
	if (!target) { return; }
	applyConditions(target);
	var note = target.querySelector("[data-announce]");
	var live = document.getElementById("live");
	if (note && live) {
		var text = note.getAttribute("data-announce");
		if (live.textContent !== text) { live.textContent = text; }
	}
	if (document.activeElement === document.body && target.hasAttribute("data-keep-focus")) {
		target.focus();
	}
});

// Elements only a script-less page needs (a step's own submit button) are
// hidden when script runs; buttons only script can work (copy) are shown.
function enhance(root) {
	root.querySelectorAll("[data-js-hide]").forEach(function (el) { el.hidden = true; });
	root.querySelectorAll("[data-copy][hidden]").forEach(function (el) { el.hidden = false; });
	root.querySelectorAll("[data-countdown]").forEach(startCountdown);
}
document.addEventListener("DOMContentLoaded", function () { enhance(document); });
document.addEventListener("htmx:afterSettle", function () { enhance(document); });

// A copy button copies the value of the field it names, and says so in
// the live region.
document.addEventListener("click", function (ev) {
	var button = ev.target.closest && ev.target.closest("[data-copy]");
	if (!button) { return; }
	var field = document.getElementById(button.getAttribute("data-copy"));
	if (!field) { return; }
	var said = function () {
		var live = document.getElementById("live");
		if (live) { live.textContent = button.getAttribute("data-copied") || ""; }
	};
	field.select();
	if (navigator.clipboard && navigator.clipboard.writeText) {
		navigator.clipboard.writeText(field.value).then(said, function () {
			if (document.execCommand("copy")) { said(); }
		});
	} else if (document.execCommand("copy")) {
		said();
	}
});

// A countdown the server rendered as text ("… in 60 seconds") counts down
// each second, keeping the button it names disabled until it ends.
function startCountdown(el) {
	if (el.getAttribute("data-counting")) { return; }
	el.setAttribute("data-counting", "1");
	var left = parseInt(el.getAttribute("data-countdown"), 10) || 0;
	var template = el.getAttribute("data-countdown-template") || "";
	var button = document.getElementById(el.getAttribute("data-countdown-button") || "");
	var end = Date.now() + left * 1000;
	var tick = function () {
		var s = Math.max(0, Math.ceil((end - Date.now()) / 1000));
		if (!document.body.contains(el)) { return; }
		if (s > 0) {
			el.textContent = template.split("{s}").join(String(s));
			if (button) { button.disabled = true; }
			setTimeout(tick, 1000);
		} else {
			el.textContent = el.getAttribute("data-countdown-done") || "";
			if (button) { button.disabled = false; }
		}
	};
	tick();
}

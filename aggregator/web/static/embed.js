/*
 * aggregator embed.js: show a feed's latest headlines in an element of your own page.
 *
 *   <div id="news"></div>
 *   <script src="https://NEWS.SITE/embed.js" data-feed="https://NEWS.SITE/feeds/region/feixian.json"
 *           data-target="news" data-limit="5" async></script>
 *
 * data-feed    a JSON Feed URL (required; relative URLs are read against this script's URL)
 * data-target  id of the element to fill (default: a new <div> placed before the script)
 * data-limit   how many headlines, 1-50 (default 5)
 * data-summary "1" to show each article's summary under its title
 * data-window  where links open: _blank (default), _self, _top or _parent
 *
 * Everything from the feed goes in as text (textContent, never innerHTML) and only
 * http(s) links are used, so a feed cannot inject markup or script into the host page.
 * The script defines no global names and needs nothing else. Markup: .aggregator-embed
 * holds ul.aggregator-embed-list > li > a + span.aggregator-embed-meta
 * (+ p.aggregator-embed-summary), then p.aggregator-embed-more; style them as you like.
 */
(function () {
  "use strict";

  var TIMEZONE = "__SITE_TIMEZONE__";
  var WINDOWS = ["_blank", "_self", "_top", "_parent"];
  var DONE = "data-aggregator-done";

  function httpUrl(value, base) {
    if (typeof value !== "string" || value === "") {
      return null;
    }
    var url;
    try {
      url = new URL(value, base);
    } catch (e) {
      return null;
    }
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function link(href, text, win) {
    var a = element("a", "", text);
    a.href = href;
    a.target = win;
    a.rel = "noopener noreferrer";
    return a;
  }

  function when(iso) {
    var date = new Date(typeof iso === "string" ? iso : "");
    if (isNaN(date.getTime())) {
      return "";
    }
    var options = { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false };
    try {
      options.timeZone = TIMEZONE;
      return new Intl.DateTimeFormat("zh-CN", options).format(date);
    } catch (e) {
      delete options.timeZone;
      return new Intl.DateTimeFormat("zh-CN", options).format(date);
    }
  }

  function text(value) {
    return typeof value === "string" ? value : "";
  }

  function clear(box) {
    while (box.firstChild) {
      box.removeChild(box.firstChild);
    }
  }

  function render(box, feed, options) {
    clear(box);
    var list = element("ul", "aggregator-embed-list");
    var items = feed && Array.isArray(feed.items) ? feed.items : [];
    for (var i = 0; i < items.length && list.childNodes.length < options.limit; i++) {
      var item = items[i] || {};
      var href = httpUrl(item.url, options.feed);
      var title = text(item.title);
      if (!href || !title) {
        continue;
      }
      var li = element("li");
      li.appendChild(link(href, title, options.window));
      var source = item._aggregator && item._aggregator.source ? text(item._aggregator.source.name) : "";
      var meta = [source, when(item.date_published)].filter(Boolean).join(" · ");
      if (meta) {
        li.appendChild(document.createTextNode(" "));
        li.appendChild(element("span", "aggregator-embed-meta", meta));
      }
      if (options.summary && text(item.summary)) {
        li.appendChild(element("p", "aggregator-embed-summary", item.summary));
      }
      list.appendChild(li);
    }
    if (list.firstChild) {
      box.appendChild(list);
    } else {
      box.appendChild(element("p", "aggregator-embed-empty", "暂无文章"));
    }
    var home = httpUrl(feed && feed.home_page_url, options.feed);
    if (home) {
      var more = element("p", "aggregator-embed-more");
      more.appendChild(link(home, "更多 · " + (text(feed.title) || "新闻"), options.window));
      box.appendChild(more);
    }
  }

  function failed(box) {
    clear(box);
    box.appendChild(element("p", "aggregator-embed-error", "新闻暂时无法加载。"));
  }

  function options(script) {
    var limit = parseInt(script.getAttribute("data-limit") || "5", 10);
    var win = script.getAttribute("data-window") || "_blank";
    return {
      feed: httpUrl(script.getAttribute("data-feed"), script.src || document.baseURI),
      limit: limit >= 1 && limit <= 50 ? limit : 5,
      summary: script.getAttribute("data-summary") === "1",
      window: WINDOWS.indexOf(win) >= 0 ? win : "_blank"
    };
  }

  function container(script) {
    var id = script.getAttribute("data-target");
    var box = id ? document.getElementById(id) : null;
    if (!box && !id) {
      box = element("div");
      script.parentNode.insertBefore(box, script);
    }
    return box;
  }

  function start(script) {
    if (script.hasAttribute(DONE)) {
      return;
    }
    var box = container(script);
    if (!box) {
      if (document.readyState === "loading") {
        // The target comes later in the page: try again once it has been parsed.
        document.addEventListener("DOMContentLoaded", function () {
          start(script);
        });
      }
      return;
    }
    script.setAttribute(DONE, "");
    var opts = options(script);
    box.classList.add("aggregator-embed");
    if (!opts.feed) {
      failed(box);
      return;
    }
    box.setAttribute("aria-busy", "true");
    fetch(opts.feed, { credentials: "omit", headers: { Accept: "application/feed+json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (feed) {
        render(box, feed, opts);
      })
      .catch(function () {
        failed(box);
      })
      .then(function () {
        box.removeAttribute("aria-busy");
      });
  }

  var current = document.currentScript;
  if (current && current.hasAttribute("data-feed")) {
    start(current);
  }
  // Loaders that run the script without currentScript: find every copy of it.
  var scripts = document.querySelectorAll("script[data-feed]");
  for (var i = 0; i < scripts.length; i++) {
    if (/\/embed\.js(?:[?#]|$)/.test(scripts[i].src)) {
      start(scripts[i]);
    }
  }
})();

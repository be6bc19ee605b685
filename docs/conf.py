"""Sphinx configuration for certbot-safedeploy's manual (plain pages, no autodoc).

    sphinx-build -W -b html docs OUT      # the manual
    sphinx-build -W -b man docs OUT       # certbot-safedeploy(1), from man.rst

It must build with Debian 12's python3-sphinx (5.3), which debian/rules uses for the man page,
as well as with the newest Sphinx in .venv.
"""

from __future__ import annotations

import posixpath

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.directives.other import TocTree

project = "certbot-safedeploy"
author = "certbot-safedeploy maintainers"
copyright = "certbot-safedeploy maintainers"
release = version = "0.1.0"

extensions: list[str] = []
source_suffix = {".rst": "restructuredtext"}
root_doc = master_doc = "index"  # master_doc: Sphinx < 4
exclude_patterns = ["_build"]
language = "en"
pygments_style = "sphinx"
highlight_language = "none"  # examples are shell sessions, TOML and messages, shown as written
html_theme = "alabaster"
html_title = "certbot-safedeploy"

# (source start file, name, description, authors, manual section), as certbot's docs/conf.py
man_pages = [
    ("man", "certbot-safedeploy",
     "verify and safely deploy certbot certificates", [author], 1),
]
man_show_urls = False
man_make_section_directory = False  # OUT/certbot-safedeploy.1, not OUT/man1/ (the default varies)


class OptionalTocTree(TocTree):
    """``.. optional-toctree::``: a toctree whose entries may not exist yet.

    Pages that other branches are still writing are listed here ahead of time; an entry
    whose file is missing is left out instead of failing the ``-W`` build, and joins the
    tree as soon as its file is there.
    """

    def run(self):  # type: ignore[no-untyped-def]
        env = self.state.document.settings.env
        current = getattr(getattr(env, "current_document", None), "docname", None) or env.docname
        kept = []
        for entry in self.content:
            target = entry.strip()
            if "<" in target and target.endswith(">"):
                target = target[target.rindex("<") + 1:-1]
            if target and posixpath.normpath(posixpath.join(posixpath.dirname(current), target)) in env.found_docs:
                kept.append(entry)
        if not kept:
            return []
        self.content = StringList(kept, self.content.source(0))
        return super().run()


def _plain_references_in_man(app, doctree, docname):  # type: ignore[no-untyped-def]
    """In the man page, a link to another page of the manual reads as that page's title.

    (Sphinx's man writer would print the title followed by an empty ``<>``.)
    """
    if app.builder.name != "man":
        return
    walk = getattr(doctree, "findall", None) or doctree.traverse  # docutils < 0.18: traverse
    for ref in list(walk(nodes.reference)):
        if not ref.get("refuri", "").startswith(("http:", "https:", "mailto:", "ftp:")):
            ref.replace_self(nodes.emphasis(ref.astext(), ref.astext()))


def setup(app):  # type: ignore[no-untyped-def]
    app.add_directive("optional-toctree", OptionalTocTree)
    app.connect("doctree-resolved", _plain_references_in_man)
    return {"parallel_read_safe": True}

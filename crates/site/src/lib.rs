//! The reader site of a blog, shared by the spoke (which serves it over HTTP) and the writer
//! (which exports it as a static site): the verified view readers are shown ([`view`]), the
//! pages and feeds built from it ([`pages`]), and the static site ([`site`]). There is no web
//! server, database or search index here; those stay in the spoke.

pub mod pages;
pub mod site;
pub mod view;
pub mod words;

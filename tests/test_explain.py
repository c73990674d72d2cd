"""The terms a pick is explained by read as phrases of its text, not as the TF-IDF's overlapping 1-2-gram pieces."""

from __future__ import annotations

from recommender.rank.explain import readable_terms

TEXT = "Image Super-Resolution with Frequency Priors. We study single image super-resolution (SR) in the wild."


def test_overlapping_pieces_become_the_phrase_the_text_writes():
    terms = ["resolution", "super resolution", "super", "frequency", "image super"]
    assert readable_terms(terms, TEXT) == ("image super-resolution", "frequency")


def test_a_term_inside_a_kept_phrase_is_not_repeated_and_the_order_is_by_weight():
    assert readable_terms(["sr", "super resolution", "resolution", "wild"], TEXT) == ("SR", "super-resolution", "wild")


def test_pieces_that_the_text_never_writes_together_stay_apart_and_an_unwritten_pair_goes():
    # "frequency priors" and "priors study" overlap by a word, but a full stop parts them in the text: they are not
    # joined, and "priors study" (the vectoriser's pair across "We") is nowhere for a reader to find
    assert readable_terms(["frequency priors", "priors study", "wild"], TEXT) == ("frequency priors", "wild")


def test_at_most_n_terms_and_a_term_not_found_is_shown_as_given():
    assert readable_terms(["wild", "single", "image", "priors", "frequency", "study"], TEXT, n=3) == (
        "wild",
        "single",
        "image",
    )
    assert readable_terms(["anything"], "Nothing of the sort.") == ("anything",)


def test_a_word_the_pieces_repeat_is_said_once():
    # 'end end' is the vectoriser's reading of 'end-to-end' (stop word out): not written so, it is not shown
    driving = readable_terms(
        ["end", "end end", "driving", "autonomous driving"], "An end-to-end model for autonomous driving."
    )
    assert driving == ("end", "autonomous driving")


def test_a_name_written_in_mixed_case_keeps_its_capitals():
    # a capital inside a word is the name's own (ResNet, RoBERTa), not a title's: only a title's capitals go
    text = "Frozen Backbones. We fine-tune RoBERTa and a ResNet backbone pretrained on ImageNet for 2D images."
    terms = ["roberta", "resnet backbone", "imagenet", "2d images", "frozen"]
    assert readable_terms(terms, text) == ("RoBERTa", "ResNet backbone", "ImageNet", "2D images", "frozen")


def test_a_joined_phrase_is_looked_for_in_the_text_once(monkeypatch):
    import importlib

    explain = importlib.import_module("recommender.rank.explain")  # the package's `explain` is the function
    asked = []
    written = explain._written
    monkeypatch.setattr(explain, "_written", lambda words, text: asked.append(tuple(words)) or written(words, text))
    assert readable_terms(["image super", "super resolution", "wild"], TEXT) == ("image super-resolution", "wild")
    assert sorted(asked) == [("image", "super", "resolution"), ("wild",)]


def test_an_abstract_of_thousands_of_sentences_has_its_key_sentence_looked_for_among_its_first():
    from recommender.rank.explain import MAX_SENTENCES, sentences

    # Each sentence of a pick is embedded: a feed's abstract of 50,000 would cost the model minutes per pick.
    abstract = " ".join(f"Sentence number {i} of a very long abstract." for i in range(50_000))
    found = sentences(abstract)
    assert len(found) == MAX_SENTENCES and found[0] == "Sentence number 0 of a very long abstract."
    real = " ".join(f"Sentence number {i} of an abstract." for i in range(MAX_SENTENCES))
    assert len(sentences(real)) == MAX_SENTENCES  # no abstract arXiv takes (1,920 characters at most) is cut

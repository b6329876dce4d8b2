"""Write tests/data/tokenizer_corpus.jsonl: the strings the tokenizer parity tests run on.

    python tests/data/make_tokenizer_corpus.py

Deterministic (a fixed seed, no network). Each line is {"category": ..., "text": ...}. The
categories cover what tokenizers disagree on: prose, accents (composed and decomposed),
case folding, compatibility characters, CJK, right-to-left and Indic scripts, emoji, control
and zero-width characters, unusual whitespace, special tokens written in the text, words
around the 100-byte and 100-character limits, empty strings, and random mixtures of all of
these. Characters are taken from Unicode blocks that have been stable for many versions, so
that the different Unicode tables of the reference implementations agree on them.
"""
import json
import os
import random
import unicodedata

SEED = 20240607
OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tokenizer_corpus.jsonl")

PROSE = [
    "The quick brown fox jumps over the lazy dog.",
    "It was the best of times, it was the worst of times.",
    "Don't stop believing; hold on to that feeling!",
    "She said, \"I'll be there at 5:30 p.m.\" — and she was.",
    "Transformers (Vaswani et al., 2017) replaced recurrence with attention.",
    "BERT's masked-language-model objective predicts ~15% of the tokens.",
    "E-mail me at jane.doe+news@example.co.uk or visit https://example.org/a/b?c=1&d=2#top.",
    "The price rose from $3.50 to $4.75 (a 35.7% increase) in Q3 2023.",
    "Unbelievably, the unaffable, antidisestablishmentarian poet wasn't there.",
    "He moved to 221B Baker Street, London NW1 6XE, in 1881.",
    "def tokenize(text): return [w.lower() for w in text.split()]  # TODO: unicode",
    "if (a < b && c >= d) { x = y ^ z | ~w; } else { return -1; }",
    "Mr. and Mrs. Smith's children's toys were strewn across the living-room floor.",
    "Rock 'n' roll, hip-hop, R&B, and lo-fi all share a shelf at the record store.",
    "The U.S.A. and the U.K. signed the treaty on 1 Jan. 2000 at 12:00:01.",
    "Wait... what?! No way!!! Are you *serious*??",
    "Her thesis — sixty-two pages long — argued that less is more.",
    "Tokenization splits text into words, then words into word pieces.",
    "Newlines\nand\ttabs\r\nshould split words just like spaces.",
    "ALL CAPS SENTENCES SHOULD LOWERCASE CLEANLY WHEN UNCASED.",
    "camelCaseWords and snake_case_words and kebab-case-words",
    "Numbers: 0 1 12 123 1,234 12.5 -7 3e10 0x1F 1/2 2^8 100%",
    "#hashtag @mention $TICKER %complete &amp; *bold* _italic_ `code`",
    "Quotation marks: “curly” ‘single’ «guillemets» „low“ and 'straight'.",
    "Dashes: hyphen-minus, en–dash, em—dash, figure‒dash, minus − sign.",
    "Ellipsis… bullet • middle·dot section § pilcrow ¶ dagger † double ‡.",
    "Math: 2 × 3 = 6, 6 ÷ 2 = 3, ∑ x² ≤ ∞, √4 = 2, ∂f/∂x ≈ 0.",
    "Currencies: € £ ¥ ₹ ₩ ₽ ¢ and the generic ¤.",
    "Arrows → ← ↑ ↓ ⇒ and boxes ■ □ ▲ ● ★ ☆ ♠ ♥ ♦ ♣.",
    "Footnote¹ and footnote² and H₂O and x⁽ⁿ⁾.",
    "The café's naïve façade didn't fool the rôle-playing maître d'.",
    "It's 9 o'clock; the meeting's been moved to room 4-B.",
    "A sentence with    several     spaces   between words.",
    "   Leading and trailing spaces.   ",
    "ok",
    "a",
    ".",
    "?!",
    "[",
    "##",
    "##ing",
    "un##known",
    "The word 'supercalifragilisticexpialidocious' is long but not too long.",
    "Pneumonoultramicroscopicsilicovolcanoconiosis is a lung disease.",
    "Semicolons; colons: commas, periods. Question marks? Exclamation points!",
    "Parentheses (round), brackets [square], braces {curly}, angle <pointy>.",
    "Slashes / back\\slashes | pipes and the tilde ~ and the grave `.",
    "1st 2nd 3rd 4th 21st 22nd 101st",
    "http://www.example.com:8080/path/to/file.html",
    "C:\\Program Files\\App\\bin\\app.exe --flag=value -v",
    "The year 1999 ended; the year 2000 began (Y2K).",
    "O'Brien, O'Neil and D'Angelo met McDonald at the pub.",
    "co-operate, re-enter, pre-eminent, e-mail, x-ray",
    "Mixed 123abc and abc123 and 12ab34cd.",
    "In 2023, GPT-4, LLaMA-2, and BERT-base-uncased were popular models.",
    "Why? Because. Why not? Because!",
    "A B C D E F G H I J K L M N O P Q R S T U V W X Y Z",
    "a b c d e f g h i j k l m n o p q r s t u v w x y z",
    "The end.",
]

ACCENTS = [
    "Café, crème brûlée, façade, naïve, résumé, coöperate, Zoë.",
    "Über den Wolken muß die Freiheit wohl grenzenlos sein. Straße, Größe, Äpfel, Öl.",
    "¿Dónde está el niño? ¡Mañana será otro día! Pingüino, corazón.",
    "Não sei, mas a coração está em São Paulo. Ação, informação.",
    "Tiếng Việt có nhiều dấu: Hà Nội, Thành phố Hồ Chí Minh, người.",
    "Zażółć gęślą jaźń. Łódź, Kraków, Gdańsk.",
    "İstanbul'da ılık bir gün; ıspanak ve çiğ köfte. Iğdır, ŞİŞLİ.",
    "Þórður og Ægir fóru á fjöll. Íslenska, Ðð.",
    "Dvořák, Škoda, Čeština, Žluťoučký kůň úpěl ďábelské ódy.",
    "Ångström, Øresund, Åland, Ærø, Bjørn.",
    "Română: științific, țară, întâmplare, mâine.",
    "Lietuvių: ąžuolas, ėjo, šaltis, ūkis, žąsis.",
    "Esperanto: ĉiuĵaŭde, ŝanĝo, ĝardeno, ĥoro.",
    "Ligatures: ﬁnancial ﬂoor eﬃcient oﬀer ﬆar",
    "ÀÁÂÃÄÅ àáâãäå ÈÉÊË èéêë ÌÍÎÏ ìíîï ÒÓÔÕÖ òóôõö ÙÚÛÜ ùúûü Ýý ÿ Ññ Çç",
    "Ǆemal ǅemal ǆemal, Ǉubljana ǈ ǉ, Ǌ ǋ ǌ",
    "ΟΔΟΣ, Σίσυφος, ΣΟΦΟΣ, σοφός — Οδυσσέας.",
    "Ἀριστοτέλης, ᾅδης, ᾠδή, ῥήτωρ, Ὀδυσσεύς.",
    "Киев, Москва, Ёлка, ёжик, щётка, объявление.",
    "Українська: Їжак, ґанок, Євген, ї, є.",
    "Հայերեն՝ Երևան, ԵՎ և, Բարև։",
    "ქართული ენა, თბილისი.",
]

COMPATIBILITY = [
    "™ ℠ © ® ℌ ℍ ℕ ℙ ℚ ℝ ℤ ℂ",
    "① ② ③ ⑩ ⑴ ⒈ ⓐ Ⓐ ㈠ ㊀",
    "½ ⅓ ¼ ¾ ⅛ ⅞ ⁄",
    "Ⅰ Ⅱ Ⅲ Ⅳ Ⅻ ⅰ ⅱ ⅻ Ⅿ",
    "㎏ ㎞ ㎡ ㏄ ℃ ℉ Å K Ω",
    "ª º ² ³ ¹ µ ſ ﬅ",
    "ＡＢＣ ａｂｃ １２３ ！？ （全角） ＠＃＄",
    "ｶﾀｶﾅ ﾊﾝｶｸ ｰ ﾞ ﾟ",
    "ẞ ß SS ss ẞẞ Maße MASSE",
    "İ i̇ I ı i",
    "K (Kelvin) Å (Angstrom) Ω (Ohm)",
    "ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ",
    "𝐀𝐁𝐂 𝑎𝑏𝑐 𝔄𝔅 𝕬 𝒜 𝟎𝟏𝟐",
]

CJK = [
    "我爱北京天安门。",
    "自然语言处理是人工智能的一个分支。",
    "東京は日本の首都です。ひらがな、カタカナ、漢字。",
    "「こんにちは」と彼は言った。",
    "한국어 문장입니다. 서울특별시, 안녕하세요!",
    "漢字と仮名交じり文：今日は良い天気ですね。",
    "中文English混合text测试123。",
    "古文：學而時習之，不亦說乎？",
    "豈 更 車 賈 滑",
    "𠀀𠀁𠂊 𪚥 𫝀 𫠠 𫢸 𬺰 丽 乁",
    "Extension E: \U0002B820\U0002B8B8 and \U0002B920.",
    "〇一二三四五六七八九十百千万",
    "ㄅㄆㄇㄈ 注音符號",
    "ㄱㄴㄷ ㅏㅑ 가나다 힣",
    "中文，标点；符号：“引号”、（括号）【方括号】《书名号》……——",
]

SCRIPTS = [
    "مرحبا بالعالم! اللغة العربية جميلة.",
    "السَّلَامُ عَلَيْكُمْ وَرَحْمَةُ اللهِ",
    "فارسی: سلام، حال شما چطور است؟",
    "اردو: آپ کیسے ہیں؟",
    "שָׁלוֹם עוֹלָם! עברית היא שפה.",
    "हिन्दी भाषा बहुत सुन्दर है। नमस्ते!",
    "বাংলা ভাষা, কলকাতা।",
    "தமிழ் மொழி, சென்னை.",
    "ภาษาไทย สวัสดีครับ",
    "ខ្មែរ ភាសា",
    "Ελληνικά και English μαζί.",
    "Mixed RTL: English עברית English العربية.",
    "ትግርኛ አማርኛ ፊደል።",
    "ᚠᚢᚦᚨᚱᚲ runes",
]

EMOJI = [
    "I love this 😍😍😍!",
    "Family: 👨‍👩‍👧‍👦 and couple 👩‍❤️‍👨",
    "Thumbs 👍🏻 👍🏼 👍🏽 👍🏾 👍🏿",
    "Flags 🇺🇸 🇫🇷 🇯🇵 🇩🇪",
    "Keycaps 1️⃣ 2️⃣ #️⃣ *️⃣",
    "Hearts ❤️ ❤ ♥️ 💔 💕",
    "Faces 😀😃😄😁😆😅🤣😂🙂🙃😉😊😇",
    "Animals 🐶🐱🐭🐹🐰🦊🐻🐼",
    "Weather ☀️ 🌤 ⛅ 🌧 ⛈ ❄️ ☃️",
    "emoji🙂inside🙂words",
    "🤗 Hugging Face",
    "🧑‍💻 writes code; 👩🏽‍🚀 flies",
]

CONTROLS = [
    "null\x00byte",
    "bell\x07and\x08backspace",
    "vertical\x0btab and form\x0cfeed",
    "escape\x1b[31mred\x1b[0m",
    "delete\x7fchar",
    "next\x85line",
    "zero\u200bwidth\u200bspace",
    "zero\u200cwidth\u200dnon-joiner",
    "word\u2060joiner and \ufeffBOM",
    "soft\u00adhyphen and in\u00adcred\u00adible",
    "left\u200eto\u200fright marks",
    "bidi \u202aembed\u202c \u202eoverride\u202c",
    "isolates \u2066a\u2069 \u2067b\u2069 \u2068c\u2069",
    "replacement \ufffd char",
    "private \ue000 use \uf8ff area",
    "unassigned \u0378 code point",
    "noncharacter \ufdd0 here",
    "variation selector ☃\ufe0f and text ☃\ufe0e",
    "combining only: \u0301\u0302 and a\u0301\u0302",
    "Tags \U000e0041\U000e0042 end",
    "ZWJ\u200d\u200d\u200dinside",
    "\x00",
    "\x01\x02\x03",
    "a\x00b c\x00",
    "trailing control\x1f",
]

WHITESPACE = [
    "no\u00a0break\u00a0space",
    "en\u2002em\u2003thin\u2009hair\u200a spaces",
    "figure\u2007punctuation\u2008six\u2006four\u2005three\u2004per\u2003em",
    "ideographic\u3000space",
    "ogham\u1680space",
    "narrow\u202fno-break and medium\u205fmath",
    "line\u2028separator and paragraph\u2029separator",
    "\t\ttabs\tand\nnewlines\n\n",
    "windows\r\nline\r\nendings",
    "  \t \n  ",
    " ",
    "\n",
    "\u00a0",
    "\u3000\u3000",
    "x\u00a0\u00a0y",
]

SPECIAL_TOKENS = [
    "[MASK]",
    "The [MASK] sat on the mat.",
    "[CLS] first [SEP] second [SEP]",
    "[mask] in lowercase",
    "a[MASK]b",
    "[MASK][MASK][MASK]",
    "[ MASK ]",
    "[[MASK]]",
    "[UNK] and [PAD]",
    "[MASK].",
    "Who is [MASK]?",
    "[Mask] [MASK ] [MASK",
    "[MA\u200bSK] with a zero-width space inside",
    "[SEP][CLS][PAD][UNK][MASK]",
]


def long_words():
    """Words at and around the 100-byte (KerasHub) and 100-character (HF) limits."""
    return [
        "a" * 100,                                   # 100 bytes, 100 chars: fits both
        "a" * 101,                                   # over both limits
        "b" * 99 + "é",                              # 101 bytes, 100 chars
        "é" * 50,                                    # 100 bytes
        "é" * 51,                                    # 102 bytes, 51 chars
        "ab" * 30 + "é" * 30,                        # 120 bytes, 90 chars
        "한" * 34,                                    # 102 bytes, 34 chars
        "😀" * 26,                                    # 104 bytes, 26 chars
        "x" * 150,                                   # 150 chars
        "supercalifragilistic" * 6,                  # 120 chars
        "short " + "w" * 120 + " short",
        "A" * 60 + "ß" * 20,                         # 100 bytes, lowercased: 120 bytes
        "ﬁ" * 40,                                    # 120 bytes, 40 chars; folded: 80 chars
        "É" * 50,                                    # 100 bytes; NFD-stripped: 50 bytes
        "long-hyphenated-" * 10,
        "un" + "believ" * 16 + "able",
    ]


EMPTY = ["", "", " ", "\u200b", "\x00", "\u00ad"]

# Pools for the random mixtures.
WORDS = ("the of and to in is was for on that with as by at from his her it an be this "
         "which or are had not but were have one all their they been has when who more "
         "will would there what so out if about up into than its only other new some "
         "time could these two may first then do any like my now over such our man me "
         "even most made after also did many before must through back years where much "
         "your way well down should because each just those people how too little state "
         "good very make world still own see men work long get here between both life being "
         "under never day same another know while last might us great old year off come "
         "since against go came right used take three running jumped tokenization "
         "unbelievable preprocessing").split()
POOLS = {
    "accents": "áéíóúàèìòùâêîôûäëïöüãõñçåæøœßÁÉÍÓÚÀÈÌÒÙÂÊÎÔÛÄËÏÖÜÃÕÑÇÅÆØŒ",
    "decomposed": "\u0300\u0301\u0302\u0303\u0308\u030a\u0327\u0328\u0323\u0345",
    "greek": "αβγδεζηθικλμνξοπρσςτυφχψωΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩάέήίόύώΐΰᾳῃῳ",
    "cyrillic": "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ",
    "cjk": "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会",
    "kana": "あいうえおかきくけこアイウエオカキクケコ",
    "hangul": "가나다라마바사아자차카타파하한글",
    "arabic": "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
    "hebrew": "אבגדהוזחטיכלמנסעפצקרשת",
    "devanagari": "अआइईउऊकखगघचछजझटठडढणतथदधनपफबभमयरलवशषसह\u093e\u093f\u0940\u0941\u094d",
    "emoji": "😀😂🙂😍🤔👍🎉🔥💯✨🚀❤",
    "punctuation": ".,;:!?'\"()[]{}<>-_/\\|@#$%^&*~`+=…—–«»“”‘’¿¡、。！？",
    "controls": "\x00\x01\x07\x0b\x0c\x1b\x7f\x85\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e",
    "spaces": " \t\n\r\u00a0\u2003\u3000\u2028\u1680\u202f",
    "compatibility": "ﬁﬂ™①½Ⅻ㎏ＡＢＣ１２３ªº²µẞİıǅ",
    "digits": "0123456789٠١٢३४५",
}


def random_mixtures(rng, count):
    """Strings built from words and characters of every pool, in random proportions."""
    pools = list(POOLS)
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 12)):
            kind = rng.random()
            if kind < 0.4:
                word = rng.choice(WORDS)
                parts.append(word.capitalize() if rng.random() < 0.2 else word)
            elif kind < 0.8:
                pool = POOLS[rng.choice(pools)]
                parts.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 6))))
            else:                       # a word with foreign characters spliced in
                word = list(rng.choice(WORDS))
                pool = POOLS[rng.choice(pools)]
                word.insert(rng.randint(0, len(word)), rng.choice(pool))
                parts.append("".join(word))
        separator = rng.choice([" ", " ", " ", "", "\t", "\u00a0", ", "])
        texts.append(separator.join(parts))
    return texts


def corpus():
    rng = random.Random(SEED)
    entries = []

    def add(category, texts):
        entries.extend({"category": category, "text": text} for text in texts)

    add("prose", PROSE)
    add("accents", ACCENTS)
    add("accents_decomposed", [unicodedata.normalize("NFD", text) for text in ACCENTS])
    add("compatibility", COMPATIBILITY)
    add("cjk", CJK)
    add("scripts", SCRIPTS)
    add("emoji", EMOJI)
    add("controls", CONTROLS)
    add("whitespace", WHITESPACE)
    add("special_tokens", SPECIAL_TOKENS)
    add("long_words", long_words())
    add("empty", EMPTY)
    add("mixed_case", [text.upper() for text in PROSE[:20]] + [text.swapcase()
                                                               for text in ACCENTS[:10]])
    add("random", random_mixtures(rng, 300))
    return entries


def main():
    entries = corpus()
    with open(OUTPUT, "w", encoding="utf-8") as file:
        for entry in entries:
            file.write(json.dumps(entry, ensure_ascii=True) + "\n")
    print(f"wrote {len(entries)} strings to {OUTPUT}")


if __name__ == "__main__":
    main()

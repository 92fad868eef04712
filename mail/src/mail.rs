//! One outgoing mail, and the hash of its content that the ledger records.

use sha2::{Digest, Sha256};

/// One plain-text mail (UTF-8, French) to one person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    /// The recipient's name, shown in `To` (`Name <address>`).
    pub to_name: String,
    /// The recipient's address; checked when the mail is sent (an invalid
    /// one makes that mail [`Outcome::Failed`](crate::Outcome::Failed)).
    pub to_address: String,
    pub subject: String,
    /// The body, plain text. Lines may end with LF or CRLF; what is sent,
    /// and read back by the recipient, is [`Mail::canonical_text`].
    pub text: String,
    /// A `Reply-To`, as `Name <address>` or a bare address.
    pub reply_to: Option<String>,
}

impl Mail {
    /// The text as sent and as a recipient reads it back (decoded): every
    /// CRLF made LF, and a final LF added where the last line has none
    /// (SMTP ends the last line with a line end whatever is given).
    pub fn canonical_text(&self) -> String {
        let mut text = self.text.replace("\r\n", "\n");
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text
    }

    /// SHA-256 of what this mail says, the proof of what was sent that the
    /// ledger records. The bytes hashed are, in this order, `to_address`,
    /// `subject` and [`Mail::canonical_text`], each as its UTF-8 bytes
    /// preceded by their number as an unsigned 64-bit big-endian integer
    /// (8 bytes). Nothing else is hashed: not the name, the `Reply-To`,
    /// the sender, the `Message-ID` nor the `Date`, so the same mail always
    /// has the same hash, which a recipient can recompute from the mail
    /// received (envelope recipient, decoded subject, decoded text with
    /// LF line ends).
    ///
    /// For example, to `a@b.fr`, subject `Objet`, text `Bonjour\r\n` (or
    /// `Bonjour`): the SHA-256 of `00 00 00 00 00 00 00 06` `a@b.fr`
    /// `00 00 00 00 00 00 00 05` `Objet` `00 00 00 00 00 00 00 08`
    /// `Bonjour\n`.
    pub fn content_sha256(&self) -> [u8; 32] {
        let text = self.canonical_text();
        let mut hasher = Sha256::new();
        for field in [self.to_address.as_str(), self.subject.as_str(), &text] {
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field.as_bytes());
        }
        hasher.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_the_documented_bytes() {
        let mail = Mail {
            to_name: "Anne".into(),
            to_address: "a@b.fr".into(),
            subject: "Objet".into(),
            text: "Bonjour\r\n".into(),
            reply_to: None,
        };
        let mut bytes = Vec::new();
        bytes.extend(6u64.to_be_bytes());
        bytes.extend(b"a@b.fr");
        bytes.extend(5u64.to_be_bytes());
        bytes.extend(b"Objet");
        bytes.extend(8u64.to_be_bytes());
        bytes.extend(b"Bonjour\n");
        let expected: [u8; 32] = Sha256::digest(&bytes).into();
        assert_eq!(mail.content_sha256(), expected);
        let unended = Mail {
            text: "Bonjour".into(),
            ..mail.clone()
        };
        assert_eq!(unended.content_sha256(), expected);
        // The fields cannot run into one another.
        let shifted = Mail {
            to_address: "a@b.frO".into(),
            subject: "bjet".into(),
            ..mail.clone()
        };
        assert_ne!(shifted.content_sha256(), mail.content_sha256());
    }
}

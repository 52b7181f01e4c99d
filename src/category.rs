//! The stable vocabulary Signpost speaks everywhere: categories, severities and
//! the moderation actions a team can take. These names appear in config files,
//! CLI output, the store and Discord, so they never change once shipped.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $($variant:ident => $text:literal, $meaning:literal;)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $(#[doc = $meaning] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stable name used in config, output and storage.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }

            /// One line saying what this value means.
            pub fn meaning(self) -> &'static str {
                match self { $($name::$variant => $meaning,)+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownName {
                        kind: $what,
                        given: s.to_owned(),
                        expected: &[$($text,)+],
                    }),
                }
            }
        }
    };
}

/// A name that is not part of the vocabulary, with the names that are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{given}`; expected one of: {}", expected.join(", "))]
pub struct UnknownName {
    pub kind: &'static str,
    pub given: String,
    pub expected: &'static [&'static str],
}

vocabulary! {
    /// What a post is, in the terms the trusts' published policies use.
    Category, "category" {
        Abuse => "abuse", "Insults, bullying or intimidation aimed at staff, patients or the public.";
        Threat => "threat", "Threats of violence or harm, or incitement to violence, against people or the organisation.";
        Hate => "hate", "Hateful or discriminatory content about a protected characteristic (race, religion, sex, sexual orientation, disability, diagnosis).";
        Profanity => "profanity", "Obscene, profane or offensive language, even when not aimed at anyone.";
        Sexual => "sexual", "Sexual or pornographic content, or references to pornography.";
        Spam => "spam", "Repeated or near-identical posts, scams and bulk messages: making the same point over and over.";
        Advertising => "advertising", "Irrelevant advertising, commercial promotion or posts for personal financial gain.";
        PersonalInfo => "personal_info", "Confidential or personal information: phone numbers, emails, NHS numbers, addresses, dates of birth.";
        StaffNamed => "staff_named", "Names an individual member of staff, which the trusts ask followers not to do in public.";
        Complaint => "complaint", "A complaint or negative experience of care: signposted to the complaints process, never removed for being negative.";
        ClinicalQuestion => "clinical_question", "Asks for clinical or medical advice, which the trusts do not give on social media: signposted instead.";
        Crisis => "crisis", "Suicidal thoughts, self-harm or a mental-health crisis: crisis signposting at any hour and an urgent relay.";
        Illegal => "illegal", "Discusses or promotes illegal activity, such as drugs, weapons or fraud.";
        Extremism => "extremism", "Terrorism, radicalisation or violent extremist content.";
        Disinformation => "disinformation", "Disinformation deliberately trying to mislead others, such as false health claims.";
    }
}

vocabulary! {
    /// How serious a match is. Ordered: `None < Low < ... < Critical`.
    Severity, "severity" {
        None => "none", "Nothing matched.";
        Low => "low", "Worth a look; no action likely.";
        Medium => "medium", "Breaks a principle; usually hidden.";
        High => "high", "Serious breach; hide or delete, consider blocking.";
        Critical => "critical", "Threat to safety or life; act now.";
    }
}

vocabulary! {
    /// A moderation action a team member can take on a post.
    Action, "action" {
        Hide => "hide", "Hide the post from everyone but its author and their friends.";
        Delete => "delete", "Delete the post.";
        Block => "block", "Block the author from the account.";
        Report => "report", "Report the post to the platform's moderators.";
        Escalate => "escalate", "Keep evidence and escalate to the police.";
        SignpostComplaints => "signpost_complaints", "Reply pointing to the complaints process.";
        SignpostClinical => "signpost_clinical", "Reply pointing to clinical help (111, GP, 999).";
        SignpostCrisis => "signpost_crisis", "Reply with crisis support details, at any hour.";
        AskToDm => "ask_to_dm", "Ask the author to send a private message with contact details.";
        Reply => "reply", "Reply with text written by the team.";
        Dismiss => "dismiss", "Not an issue: dismiss the relay.";
    }
}

#[allow(clippy::derivable_impls)]
impl Default for Severity {
    fn default() -> Self {
        Severity::None
    }
}

impl Action {
    /// The label on a Discord button or in a transcript.
    pub fn label(self) -> &'static str {
        match self {
            Action::Hide => "Hide",
            Action::Delete => "Delete",
            Action::Block => "Block",
            Action::Report => "Report to platform",
            Action::Escalate => "Escalate to police",
            Action::SignpostComplaints => "Signpost complaints",
            Action::SignpostClinical => "Signpost clinical",
            Action::SignpostCrisis => "Signpost crisis",
            Action::AskToDm => "Ask to DM",
            Action::Reply => "Reply…",
            Action::Dismiss => "Not an issue",
        }
    }
}

impl Category {
    /// Categories that make a post "offensive" in the sense of the OLID dataset.
    pub const OFFENSIVE: &'static [Category] = &[
        Category::Abuse,
        Category::Threat,
        Category::Hate,
        Category::Profanity,
        Category::Sexual,
    ];

    /// Categories that count as strikes against the author and can ground a
    /// hide, delete or block. Complaints, clinical questions, crisis posts,
    /// personal information, staff naming and disinformation never do: a
    /// negative post is not an abusive one.
    pub const STRIKES: &'static [Category] = &[
        Category::Abuse,
        Category::Threat,
        Category::Hate,
        Category::Profanity,
        Category::Sexual,
        Category::Spam,
        Category::Advertising,
        Category::Illegal,
        Category::Extremism,
    ];

    /// Whether this category counts as a strike (see [`Category::STRIKES`]).
    pub fn is_strike(self) -> bool {
        Category::STRIKES.contains(&self)
    }

    /// Categories that must never receive an automatic reply.
    pub fn suppresses_auto_reply(self) -> bool {
        matches!(
            self,
            Category::Abuse
                | Category::Threat
                | Category::Hate
                | Category::Spam
                | Category::Advertising
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_str_and_serde() {
        for c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>().unwrap(), *c);
            let json = serde_json::to_string(c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            assert!(!c.meaning().is_empty());
        }
        for a in Action::ALL {
            assert_eq!(a.as_str().parse::<Action>().unwrap(), *a);
        }
    }

    #[test]
    fn unknown_name_lists_the_valid_ones() {
        let err = "rude".parse::<Category>().unwrap_err();
        assert!(err.to_string().contains("unknown category `rude`"));
        assert!(err.to_string().contains("personal_info"));
    }

    #[test]
    fn severity_is_ordered() {
        assert!(Severity::None < Severity::Low);
        assert!(Severity::High < Severity::Critical);
    }
}

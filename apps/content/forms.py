from django import forms


class FolderForm(forms.Form):
    name = forms.CharField(label="Folder name", max_length=1000)


class UploadForm(forms.Form):
    file = forms.FileField(label="File", allow_empty_file=True)
    note = forms.CharField(
        label="Note", max_length=500, required=False, help_text="What this file is, for the history."
    )


class VersionForm(forms.Form):
    file = forms.FileField(label="New version", allow_empty_file=True)
    note = forms.CharField(label="What changed", max_length=500, required=False)


class RenameForm(forms.Form):
    name = forms.CharField(label="Name", max_length=1000)


class SearchForm(forms.Form):
    """The search page's question and filters (a GET form); also checks the API's filters."""

    q = forms.CharField(label="Words", max_length=200, required=False)
    type = forms.ChoiceField(label="Type", required=False)
    tag = forms.CharField(label="Tag", max_length=60, required=False)
    folder = forms.TypedChoiceField(label="In folder", required=False, coerce=int, empty_value=None)
    owner = forms.TypedChoiceField(label="Uploaded by", required=False, coerce=int, empty_value=None)
    changed_from = forms.DateField(label="Changed from", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    changed_to = forms.DateField(label="Changed until", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, folders=(), owners=(), types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", "Any type"), *types]
        self.fields["folder"].choices = [("", "Anywhere"), *folders]
        self.fields["owner"].choices = [("", "Anyone"), *owners]

    def clean(self):
        data = super().clean()
        start, end = data.get("changed_from"), data.get("changed_to")
        if start and end and start > end:
            self.add_error("changed_to", "The end of the range comes before its start.")
        return data


class ContentSettingsForm(forms.Form):
    keep_image_location = forms.BooleanField(
        required=False,
        label="Keep the location in uploaded pictures",
        help_text="Off (recommended): the GPS position that phones and cameras write into JPEG, PNG, WebP and "
        "TIFF pictures is removed when they are uploaded. Pictures already stored are not changed.",
    )
    ocr_languages = forms.MultipleChoiceField(
        label="Languages of scanned text",
        widget=forms.CheckboxSelectMultiple,
        help_text="Scanned PDFs and pictures are read (OCR) in these languages so their words can be found. "
        "Fewer languages read faster. Applies to files uploaded from now on.",
        error_messages={"required": "Choose at least one language."},
    )

    def __init__(self, *args, **kwargs):
        from .processing import OCR_LANGUAGES

        super().__init__(*args, **kwargs)
        self.fields["ocr_languages"].choices = list(OCR_LANGUAGES.items())


class ShareLinkForm(forms.Form):
    expires_at = forms.DateTimeField(
        label="Works until",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="The link stops working at this time (at most a year from now).",
    )
    version = forms.TypedChoiceField(
        label="Version",
        coerce=int,
        required=False,
        empty_value=None,
        help_text="“Always the latest” follows new versions; a number keeps that version.",
    )
    password = forms.CharField(
        label="Password",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        max_length=128,
        help_text="Optional. Whoever opens the link must type it (at least 8 characters).",
    )
    max_downloads = forms.IntegerField(
        label="Downloads allowed", required=False, min_value=1, max_value=1_000_000,
        help_text="Optional. Empty: no limit.",
    )  # fmt: skip

    def __init__(self, *args, numbers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].choices = [("", "Always the latest")] + [(n, f"Version {n}") for n in numbers]


class LinkPasswordForm(forms.Form):
    password = forms.CharField(label="Password", widget=forms.PasswordInput, max_length=128)


class FolderShareForm(forms.Form):
    user = forms.TypedChoiceField(label="Member", coerce=int)
    role = forms.ChoiceField(
        label="Role", choices=[("viewer", "Viewer: sees and downloads"), ("editor", "Editor: also uploads and changes")]
    )

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [(u.pk, f"{u.get_full_name() or u.email} ({u.email})") for u in members]


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment", max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "data-mentions": ""}),
        help_text="Type @ and a name to mention a member: they are told.",
    )  # fmt: skip
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)


class DetailsForm(forms.Form):
    """Tags; the metadata rows are read from the POST directly (key_N, type_N, value_N)."""

    tags = forms.CharField(label="Tags", required=False, max_length=3000, help_text="Separated by commas.")

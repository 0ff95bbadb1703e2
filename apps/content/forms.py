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


class ContentSettingsForm(forms.Form):
    keep_image_location = forms.BooleanField(
        required=False,
        label="Keep the location in uploaded pictures",
        help_text="Off (recommended): the GPS position that phones and cameras write into JPEG, PNG, WebP and "
        "TIFF pictures is removed when they are uploaded. Pictures already stored are not changed.",
    )

from django import forms


class CheckinForm(forms.Form):
    score = forms.IntegerField(min_value=1, label="Score")
    note = forms.CharField(max_length=200, required=False, label="A word about it")

    def __init__(self, *args, scale: int = 5, question: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["score"].max_value = scale
        self.fields["score"].label = question or "Score"
        self.fields["score"].help_text = f"1 (bad) to {scale} (great)"
        self.fields["score"].widget.attrs.update(min=1, max=scale)

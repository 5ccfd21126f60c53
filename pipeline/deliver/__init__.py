"""The month reaches people: each unit's feedback or reminder as an e-mail and a WhatsApp link.

* :mod:`pipeline.deliver.notices` cuts a month's results into one :class:`UnitNotice` per
  registry unit (that unit's figures and problems only) and words its e-mail and WhatsApp text;
* :mod:`pipeline.deliver.mail` turns notices into e-mail messages, writes them as ``.eml`` files
  and sends them over SMTP (``rbpipe kirim``), remembering what was sent in the run history.
"""
